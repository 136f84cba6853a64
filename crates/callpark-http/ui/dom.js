// @ts-check
// DOM helpers: elements are built with textContent only (caller names are untrusted).

/**
 * An element of index.html, which has it.
 * @param {string} id
 * @returns {HTMLElement}
 */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Attributes set with setAttribute; any other key is set as a property. */
const ATTRIBUTES = new Set(['role', 'tabindex', 'draggable', 'for', 'title', 'type', 'id']);

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes (`class`, `text`, data-*, aria-*, …) and children.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('data-') || key.startsWith('aria-') || ATTRIBUTES.has(key)) {
      el.setAttribute(key, value === true ? '' : String(value));
    } else /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let announceTimer;

/**
 * Says a message in the polite live region.
 * @param {string} message
 */
export function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  clearTimeout(announceTimer);
  // A fresh text node after a tick, so that a repeated message is read again.
  announceTimer = setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * An action the error banner offers: a button with `data-action` (and `data-slot`), handled
 * like the page's other buttons.
 * @typedef {{ label: string, action: string, slot?: number }} ErrorAction
 */

/**
 * Shows the error banner (it floats over the page: nothing moves under the pointer).
 * @param {string} message
 * @param {ErrorAction} [offer]
 */
export function showError(message, offer) {
  $('alert-text').textContent = message;
  const button = $('alert-action');
  button.hidden = !offer;
  button.textContent = offer ? offer.label : '';
  button.dataset.action = offer ? offer.action : '';
  button.dataset.slot = offer && offer.slot !== undefined ? String(offer.slot) : '';
  $('alert').hidden = false;
}

/**
 * A message in an element that shows only while there is one (a view's error line).
 * @param {string} id
 * @param {string | null} message null hides it
 */
export function showMessage(id, message) {
  const el = $(id);
  el.hidden = !message;
  el.textContent = message || '';
}

export function clearError() {
  $('alert').hidden = true;
  $('alert-text').textContent = '';
  $('alert-action').hidden = true;
}

/** Focuses the current call's card, when it shows. */
export function focusCallCard() {
  const card = document.getElementById('call-card');
  if (card) card.focus();
}
