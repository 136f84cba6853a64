// @ts-check
// Input: the forms and buttons, choosing a slot with the keyboard, and drag and drop.

import { hangUp, park, parkMineAndRetrieve, retrieve, simulateCall, slotTaken } from './actions.js';
import { askHangUp, toggleMute, wireHangUpDialog } from './call.js';
import { $, announce, clearError, focusCallCard, showError } from './dom.js';
import { endChoosing, render, renderCall } from './render.js';
import { askSignOut, signInWith, wireSignOutDialog } from './signin.js';
import { currentCall, state } from './state.js';
import { readSignIn } from './token.js';
import { showLot } from './views.js';

const DRAG_TYPE = 'application/x-callpark-call';

/** What the sign-in box says when what it holds is no token. */
const SIGN_IN_PROBLEMS = {
  empty: 'Paste your sign-in link or agent token.',
  link_without_token: 'That link has no token in it. Paste the whole sign-in link, with its #token=cpk_… part.',
};

/** @type {ReturnType<typeof setTimeout> | undefined} */
let digitTimer;
/** The slot under the dragged call, a drop target or not (null: none). */
let dragSlot = /** @type {number | null} */ (null);

/** Listens to the page's controls, once. */
export function wireInput() {
  wireForms();
  document.addEventListener('click', onClick);
  document.addEventListener('keydown', onKey);
  wireDrag();
}

function wireForms() {
  const tokenInput = /** @type {HTMLInputElement} */ ($('token-input'));
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const read = readSignIn(tokenInput.value);
    if ('error' in read) {
      $('signin-error').textContent = SIGN_IN_PROBLEMS[read.error];
      $('signin-error').hidden = false;
      tokenInput.setAttribute('aria-invalid', 'true');
      tokenInput.focus();
      return;
    }
    signInWith(read.token);
  });
  tokenInput.addEventListener('input', () => tokenInput.removeAttribute('aria-invalid'));
  $('sign-out').addEventListener('click', askSignOut);
  wireSignOutDialog();
  wireHangUpDialog();
  $('simulate-call').addEventListener('click', simulateCall);
  $('alert-close').addEventListener('click', () => {
    clearError();
    $('lot-heading').focus();
  });
}

/**
 * The buttons the page renders say what they do in `data-action`.
 * @param {MouseEvent} event
 */
function onClick(event) {
  const target = /** @type {Element} */ (event.target);
  const button = /** @type {HTMLButtonElement | null} */ (target.closest && target.closest('[data-action]'));
  if (!button || button.disabled) return;
  const slot = Number(button.dataset.slot);
  switch (button.dataset.action) {
    case 'choose':
      if (state.choosing) exitChoosing(true);
      else enterChoosing();
      break;
    case 'pick':
      park(slot);
      break;
    case 'retrieve':
      retrieve(slot);
      break;
    case 'park-and-retrieve':
      parkMineAndRetrieve(slot);
      break;
    case 'hangup-call':
      hangUp(button.dataset.pstn || '', button.dataset.slot ? slot : null);
      break;
    case 'hangup-mine':
      askHangUp();
      break;
    case 'mute':
      toggleMute();
      break;
    case 'accept':
      if (state.incoming) state.incoming.accept();
      break;
    case 'reject':
      if (state.incoming) {
        state.incoming.reject();
        state.incoming = null;
        renderCall();
      }
      break;
    default:
      break;
  }
}

/**
 * Enter or Space on the call card chooses a slot; digits pick one; Escape cancels.
 * @param {KeyboardEvent} event
 */
function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const onCard = Boolean(event.target) && /** @type {Element} */ (event.target).id === 'call-card';
  if (onCard && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    if (state.choosing) exitChoosing(true);
    else enterChoosing();
    return;
  }
  if (event.key === 'Escape' && state.choosing) {
    event.preventDefault();
    exitChoosing(true);
    return;
  }
  // Digits pick a slot while choosing, or straight from the focused call card.
  if ((state.choosing || onCard) && /^[0-9]$/.test(event.key)) {
    event.preventDefault();
    typeDigit(event.key);
  }
}

function enterChoosing() {
  if (!currentCall() || state.parking) return;
  const slots = state.lot.slots || [];
  if (!slots.some((s) => state.lot.isFree(s))) {
    showError('The lot is full: there is no free slot to park in.');
    return;
  }
  state.choosing = true;
  showLot();
  render();
  announce('Choose a slot: press a free slot or type its number. Escape cancels.');
  const first = /** @type {HTMLElement | null} */ ($('grid').querySelector('[data-action="pick"]'));
  if (first) first.focus();
}

/** @param {boolean} refocus whether to give the focus back to the call card */
function exitChoosing(refocus) {
  if (!state.choosing) return;
  endChoosing();
  if (refocus) focusCallCard();
}

/** @param {string} digit */
function typeDigit(digit) {
  const size = state.lot.slots ? state.lot.slots.length : 0;
  state.digits += digit;
  clearTimeout(digitTimer);
  const n = Number(state.digits);
  // With ten or more slots, wait a moment for a second digit.
  if (size >= 10 && state.digits.length === 1 && n * 10 <= size) {
    digitTimer = setTimeout(() => {
      const pick = Number(state.digits);
      state.digits = '';
      pickByNumber(pick);
    }, 700);
    return;
  }
  state.digits = '';
  pickByNumber(n);
}

/** @param {number} n */
function pickByNumber(n) {
  const s = state.lot.slot(n);
  if (!s) {
    announce(`There is no slot ${n}.`);
    return;
  }
  if (!state.lot.isFree(s)) {
    slotTaken(n);
    return;
  }
  park(n);
}

/**
 * The slot an event happened on, if any.
 * @param {Event} event
 */
function slotFromEvent(event) {
  const target = /** @type {Element} */ (event.target);
  const li = /** @type {HTMLElement | null} */ (target.closest && target.closest('li.slot'));
  return li ? Number(li.dataset.slot) : null;
}

/** @param {number} slot */
function isDropTarget(slot) {
  const s = state.lot.slot(slot);
  return Boolean(s) && state.lot.isFree(/** @type {import('./api.js').Slot} */ (s)) && Boolean(currentCall()) && !state.parking;
}

/**
 * Marks the slot the dragged call hovers over (or none), without rebuilding the grid.
 * @param {number | null} slot
 */
function setDragOver(slot) {
  if (state.dragOver === slot) return;
  const grid = $('grid');
  for (const n of [state.dragOver, slot]) {
    if (n === null) continue;
    const li = grid.querySelector(`li[data-slot="${n}"]`);
    if (!li) continue;
    const on = n === slot;
    li.classList.toggle('is-drop-hover', on);
    const hint = li.querySelector('.slot-hint');
    if (hint) hint.textContent = on ? 'Release to park' : 'Drop call here';
  }
  state.dragOver = slot;
}

function wireDrag() {
  const grid = $('grid');
  grid.addEventListener('dragover', (event) => {
    const slot = slotFromEvent(event);
    if (!state.dragging || slot === null || !isDropTarget(slot)) {
      if (state.dragging) setDragOver(null);
      return; // not a drop target: the browser shows "no drop"
    }
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
    setDragOver(slot);
  });
  grid.addEventListener('dragleave', (event) => {
    const target = /** @type {Element} */ (event.target);
    const li = /** @type {HTMLElement | null} */ (target.closest && target.closest('li.slot'));
    if (li && !li.contains(/** @type {Node | null} */ (event.relatedTarget))) {
      if (state.dragOver === Number(li.dataset.slot)) setDragOver(null);
    }
  });
  grid.addEventListener('drop', (event) => {
    const slot = slotFromEvent(event);
    event.preventDefault();
    const ok = state.dragging && slot !== null && isDropTarget(slot);
    dragSlot = null;
    endDrag();
    if (ok && slot !== null) park(slot);
  });
  // Wherever the call is dragged, for a drop on a taken slot (which takes no drop: only the
  // drag's end tells of it).
  document.addEventListener('dragover', (event) => {
    if (state.dragging) dragSlot = slotFromEvent(event);
  });
  const area = $('call-area');
  area.addEventListener('dragstart', startDrag);
  area.addEventListener('dragend', () => {
    const refused = dragSlot;
    dragSlot = null;
    endDrag();
    const s = refused === null ? undefined : state.lot.slot(refused);
    if (s && !state.lot.isFree(s) && currentCall() && !state.parking) slotTaken(s.slot);
  });
}

/** @param {DragEvent} event */
function startDrag(event) {
  const card = /** @type {HTMLElement | null} */ (event.target);
  if (!card || card.id !== 'call-card') return;
  const call = currentCall();
  if (!call || !event.dataTransfer) {
    event.preventDefault();
    return;
  }
  event.dataTransfer.effectAllowed = 'move';
  event.dataTransfer.setData(DRAG_TYPE, call.callSid);
  event.dataTransfer.setData('text/plain', call.callerNumber || call.callSid);
  state.dragging = true;
  dragSlot = null;
  showLot();
  document.body.classList.add('is-dragging');
  card.classList.add('is-dragging');
}

function endDrag() {
  state.dragging = false;
  document.body.classList.remove('is-dragging');
  const card = document.getElementById('call-card');
  if (card) card.classList.remove('is-dragging');
  setDragOver(null);
}
