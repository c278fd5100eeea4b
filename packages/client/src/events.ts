/** A tiny typed event emitter (no Node `events`, so it runs everywhere). */
export class Emitter<M extends object> {
  private readonly listeners = new Map<keyof M, Set<(e: never) => void>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof M>(event: K, fn: (e: M[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as (e: never) => void);
    return () => set.delete(fn as (e: never) => void);
  }

  protected emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        (fn as (e: M[K]) => void)(payload);
      } catch {
        // A listener's bug must not break the upload.
      }
    }
  }
}
