// The part of `node:async_hooks` the platform-limits layer uses (workerd provides it under `nodejs_compat`). Declared
// here rather than by adding @types/node to the Worker's types, which would bring Node's globals into src/.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, callback: () => R): R;
  }
}
