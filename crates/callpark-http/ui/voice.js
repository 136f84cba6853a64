// @ts-check
// The Twilio Voice SDK, served by callpark itself (ui/vendor/, see docs/ui.md): loaded only
// when the service issues Voice tokens (`me.voice`), so the sandbox never fetches it.

export const SDK_PATH = '/ui/vendor/twilio-voice-sdk/twilio.min.js';

/** @typedef {Twilio.Call} SdkCall */
/** @typedef {{ device: Twilio.Device, destroy(): void }} Phone */

/**
 * What the page does with the phone.
 * @typedef {object} PhoneHandlers
 * @property {() => Promise<import('./api.js').VoiceToken>} fetchToken
 * @property {(kind: 'ready' | 'connecting' | 'offline') => void} onStatus
 * @property {(call: SdkCall) => void} onIncoming
 * @property {(error: Error) => void} onError
 */

/**
 * @param {string} src
 * @returns {Promise<void>}
 */
function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (window.Twilio && window.Twilio.Device) {
      resolve();
      return;
    }
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () =>
      reject(new Error('The Twilio Voice SDK is not installed on this service (ui/vendor/twilio-voice-sdk/twilio.min.js).'));
    document.head.append(script);
  });
}

/**
 * Registers a Twilio.Device for the signed-in agent.
 * @param {PhoneHandlers} handlers
 * @returns {Promise<Phone>}
 */
export async function startVoice(handlers) {
  await loadScript(SDK_PATH);
  const { Device } = /** @type {NonNullable<Window['Twilio']>} */ (window.Twilio);
  const first = await handlers.fetchToken();
  // Refresh a minute before expiry (the SDK emits tokenWillExpire tokenRefreshMs ahead), but
  // never later than half-way through a short-lived token.
  const refreshMs = Math.min(60_000, Math.max(5_000, (first.ttlSeconds * 1000) / 2));
  const device = new Device(first.token, {
    closeProtection: 'A call is in progress. Leaving the page drops it.',
    codecPreferences: ['opus', 'pcmu'],
    tokenRefreshMs: refreshMs,
    logLevel: 'warn',
  });
  device.on('registering', () => handlers.onStatus('connecting'));
  device.on('registered', () => handlers.onStatus('ready'));
  device.on('unregistered', () => handlers.onStatus('offline'));
  device.on('error', (error) => handlers.onError(error));
  device.on('incoming', (call) => handlers.onIncoming(call));
  device.on('tokenWillExpire', async () => {
    try {
      const next = await handlers.fetchToken();
      device.updateToken(next.token);
    } catch (error) {
      handlers.onError(/** @type {Error} */ (error));
    }
  });
  await device.register();
  return {
    device,
    destroy() {
      try {
        device.destroy();
      } catch {
        // Already torn down.
      }
    },
  };
}

/**
 * What the page shows (and parks) of a Voice SDK call.
 * @param {SdkCall} call
 * @returns {import('./api.js').CurrentCall & { retrievedFrom: string | null, reason: string | null }}
 */
export function describeCall(call) {
  const custom = call.customParameters || new Map();
  const params = call.parameters || {};
  return {
    // The agent's own leg: what POST /api/park takes.
    callSid: params.CallSid,
    pstnCallSid: null,
    callerNumber: custom.get('callerNumber') || params.From || null,
    callerName: custom.get('callerName') || null,
    retrievedFrom: custom.get('slot') || null,
    // "retrieve" (an agent pressed Retrieve) or "ringback" (the hold time ran out).
    reason: custom.get('reason') || null,
  };
}
