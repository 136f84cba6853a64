// @ts-check
// The agent token in what an agent pastes into the sign-in box: the token itself, or the whole
// sign-in link it came in (`https://park.example.com/#token=cpk_…`). No DOM: node's test runner
// imports it (crates/callpark-http/ui-tests/).

/**
 * The `token=` parameter of a URL fragment (`#token=…`, or among other `&`-separated ones).
 * @param {string} hash a fragment, with or without its leading `#`
 * @returns {string | null}
 */
export function tokenFromFragment(hash) {
  const match = /(?:^#?|&)token=([^&]*)/.exec(hash);
  if (!match || !match[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null; // a malformed %-escape: no token
  }
}

/**
 * What the sign-in box holds, read as a token: a sign-in link gives the token of its fragment,
 * anything else is taken as the token itself.
 * @param {string} text
 * @returns {{ token: string } | { error: 'empty' | 'link_without_token' }}
 */
export function readSignIn(text) {
  const input = text.trim();
  if (!input) return { error: 'empty' };
  const hashAt = input.indexOf('#');
  const looksLikeLink = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) || hashAt >= 0;
  if (!looksLikeLink) return { token: input };
  const token = hashAt >= 0 ? tokenFromFragment(input.slice(hashAt + 1)) : null;
  return token ? { token } : { error: 'link_without_token' };
}
