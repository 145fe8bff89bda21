/**
 * The host's end of one webview's message channel, shared by the panel (attentionPanel.ts), the side view
 * (translationView.ts) and the training panel (trainPanel.ts): messages wait until the webview says `ready` (and
 * again after it was torn down while hidden), and every incoming message is validated before it is handled: with
 * `parseWebviewMessage`, or the channel's own parser (the training panel's `parseTrainMessage`).
 *
 * Explanations go out with their Float32Arrays as they are: VS Code transfers typed arrays to webviews as binary
 * data (they arrive there as typed arrays), never as JSON numbers. Pure: no `vscode` import, so it is unit-tested.
 */
import { parseWebviewMessage, type FromWebviewMessage, type ToWebviewMessage } from '../shared/protocol';

/** The part of `vscode.Webview` the channel uses. */
export interface WebviewPort<Out = ToWebviewMessage> {
  postMessage(message: Out): PromiseLike<boolean>;
  onDidReceiveMessage(listener: (raw: unknown) => unknown): { dispose(): unknown };
}

/** Webview → host messages: each has a `type`, and `ready` is one of them. */
type Incoming = { type: string };

export interface ChannelOptions<In extends Incoming = FromWebviewMessage, Out = ToWebviewMessage> {
  /** For log lines ("the attention panel"). */
  name: string;
  log: (message: string) => void;
  /** The validated message, or undefined for anything malformed (default: `parseWebviewMessage`). */
  parse?: (raw: unknown) => In | undefined;
  /** A valid message other than `ready`; a rejection is reported with `onError`. */
  onMessage: (message: In) => unknown;
  onError: (error: unknown) => void;
  /** What a webview that is not ready yet keeps of its queue when `message` is added (default: everything). */
  enqueue?: (queue: Out[], message: Out) => Out[];
  /** On `ready`: what to send, given what was queued (default: the queue). */
  onReady?: (pending: Out[]) => Out[];
}

export class WebviewChannel<In extends Incoming = FromWebviewMessage, Out = ToWebviewMessage> {
  private port: WebviewPort<Out> | undefined;
  private subscription: { dispose(): unknown } | undefined;
  private ready = false;
  private queue: Out[] = [];
  private readonly parse: (raw: unknown) => In | undefined;

  constructor(private readonly options: ChannelOptions<In, Out>) {
    this.parse = options.parse ?? (parseWebviewMessage as unknown as (raw: unknown) => In | undefined);
  }

  /** Connects a (new) webview: nothing is sent to it before it posts `ready`. */
  attach(port: WebviewPort<Out>): void {
    this.subscription?.dispose();
    this.port = port;
    this.ready = false;
    this.subscription = port.onDidReceiveMessage((raw) => this.receive(raw));
  }

  /** The webview went away (disposed) or was torn down while hidden: hold messages until it says `ready` again. */
  notReady(): void {
    this.ready = false;
  }

  detach(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.port = undefined;
    this.ready = false;
    this.queue = [];
  }

  get isReady(): boolean {
    return this.ready;
  }

  post(message: Out): void {
    if (!this.port) return;
    if (!this.ready) {
      this.queue = this.options.enqueue ? this.options.enqueue(this.queue, message) : [...this.queue, message];
      return;
    }
    this.port.postMessage(message).then(undefined, (err: unknown) => this.options.log(`${this.options.name}: postMessage failed: ${String(err)}`));
  }

  private receive(raw: unknown): void {
    const message = this.parse(raw);
    if (!message) {
      this.options.log(`ignored an invalid message from ${this.options.name}`);
      return;
    }
    if (message.type === 'ready') {
      const pending = this.queue;
      this.queue = [];
      this.ready = true;
      for (const m of this.options.onReady ? this.options.onReady(pending) : pending) this.post(m);
      return;
    }
    try {
      Promise.resolve(this.options.onMessage(message)).catch(this.options.onError);
    } catch (err) {
      this.options.onError(err);
    }
  }
}
