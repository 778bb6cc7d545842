// Runs `fn` at most once per `ms`. `fn` reads the current state when it runs, so requests made while
// a run is scheduled need no bookkeeping: the scheduled run shows the latest state.
export function throttle(fn: () => void, ms: number): { request(): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const run = (): void => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  return {
    request(): void {
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    cancel(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
