/**
 * An OpenTelemetry ContextManager that scopes a context to the synchronous part of a call, with
 * no async hooks (AsyncLocalStorage's promise hooks cost every promise of every request, traced
 * or not). It is enough here because every span the serving stack starts below a request span
 * (inference, batching queue wait) is started before the request's first await: the transports
 * enter the request's context, the API function acquires the servable and calls the engine, and
 * the batching queue takes its task, all synchronously. Work after an await (e.g. the second task
 * of a MultiInference) simply has no parent and is not traced.
 */
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';

/** The enabled manager (there is one: start-tracing.ts installs it), for inRootContext(). */
let enabledManager: SynchronousContextManager | undefined;

/**
 * True when the enabled manager's active context is the root, i.e. no traced request is running
 * (untraced requests never enter a context): the hot paths' cheapest "nothing to trace" check.
 * False when no manager is enabled (the caller then asks the OpenTelemetry API).
 */
export function inRootContext(): boolean {
  return enabledManager !== undefined && enabledManager.active() === ROOT_CONTEXT;
}

/**
 * The enabled manager's active context, read directly (the OpenTelemetry API's context.active()
 * looks the manager up in a global and checks its version on every call); undefined when no
 * manager is enabled.
 */
export function managedContext(): Context | undefined {
  return enabledManager?.active();
}

export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    return function bound(this: unknown, ...args: unknown[]) {
      return manager.with(context, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    enabledManager = this;
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    if (enabledManager === this) enabledManager = undefined;
    return this;
  }
}
