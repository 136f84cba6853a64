// @ts-check
// The sign-in box (ui/token.js): a pasted token, or the whole sign-in link it came in.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readSignIn, tokenFromFragment } from '../ui/token.js';

const TOKEN = 'cpk_0123456789abcdef0123456789abcdef';

describe('readSignIn', () => {
  /** @type {[string, string][]} */
  const tokens = [
    [TOKEN, 'a bare token'],
    [`  ${TOKEN}\n`, 'a token with the whitespace of a copy'],
    [`http://127.0.0.1:8080/#token=${TOKEN}`, 'the sign-in link the sandbox prints'],
    [`https://park.example.com/#token=${TOKEN}`, 'the sign-in link of docs/deploy.md'],
    [` https://park.example.com/?x=1#token=${TOKEN}&from=mail `, 'a link with a query and more fragment'],
    [`https://park.example.com/#from=mail&token=${TOKEN}`, 'the token after another fragment parameter'],
    [`park.example.com/#token=${TOKEN}`, 'a link without its scheme'],
    [`#token=${TOKEN}`, 'the fragment alone'],
    [`https://park.example.com/#token=${encodeURIComponent('cpk_a/b')}`, 'an escaped token'],
  ];
  for (const [text, what] of tokens) {
    it(`takes ${what}`, () => {
      const expected = what === 'an escaped token' ? 'cpk_a/b' : TOKEN;
      assert.deepEqual(readSignIn(text), { token: expected });
    });
  }

  it('says when nothing was pasted', () => {
    assert.deepEqual(readSignIn('   '), { error: 'empty' });
  });

  /** @type {string[]} */
  const tokenless = [
    'https://park.example.com/',
    'https://park.example.com/#',
    'https://park.example.com/#token=',
    'https://park.example.com/#mytoken=cpk_x',
    'https://park.example.com/#token=%E0%A4%A',
  ];
  for (const text of tokenless) {
    it(`refuses the link without a token ${text}`, () => {
      assert.deepEqual(readSignIn(text), { error: 'link_without_token' });
    });
  }
});

describe('tokenFromFragment', () => {
  it('reads the address bar\'s fragment, with or without its #', () => {
    assert.equal(tokenFromFragment(`#token=${TOKEN}`), TOKEN);
    assert.equal(tokenFromFragment(`token=${TOKEN}`), TOKEN);
    assert.equal(tokenFromFragment(''), null);
    assert.equal(tokenFromFragment('#section-2'), null);
  });
});
