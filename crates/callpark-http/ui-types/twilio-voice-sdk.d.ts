// What the page uses of the vendored Twilio Voice SDK (ui/vendor/twilio-voice-sdk/), which is
// not type-checked: the `Twilio` global its script defines, no more.

declare namespace Twilio {
  interface Call {
    /** The call's own parameters: `CallSid`, `From`, … */
    readonly parameters: Record<string, string>;
    /** The `<Parameter>`s of the `<Client>` that rings this browser. */
    readonly customParameters: Map<string, string>;
    on(event: 'accept' | 'cancel' | 'disconnect' | 'reject', listener: () => void): this;
    accept(): void;
    reject(): void;
    disconnect(): void;
  }

  interface DeviceOptions {
    closeProtection?: boolean | string;
    codecPreferences?: string[];
    tokenRefreshMs?: number;
    logLevel?: string;
  }

  class Device {
    constructor(token: string, options?: DeviceOptions);
    on(event: 'registering' | 'registered' | 'unregistered' | 'tokenWillExpire', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'incoming', listener: (call: Call) => void): this;
    register(): Promise<void>;
    updateToken(token: string): void;
    destroy(): void;
  }
}

interface Window {
  /** Defined once the SDK's script has loaded. */
  Twilio?: { Device: typeof Twilio.Device };
}
