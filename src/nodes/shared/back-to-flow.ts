// Handing a message back to the flow from a broker callback. Node-RED clones a message for a second wire and for
// Complete and Catch nodes; a message nested deeper than the stack makes that clone throw, and here it would throw
// on MQTT.js's stack, into the socket code, or vanish in the connection's dispatch.

/** An error's message, cut short for a log line. */
export function shortMessage(err: unknown): string {
  return String((err as Error | undefined)?.message ?? err).slice(0, 200);
}

/** Runs `fn` (send, done, error); if it throws, `report` gets the error's message, cut short. */
export function backToFlow(fn: () => void, report: (message: string) => void): void {
  try {
    fn();
  } catch (err) {
    report(shortMessage(err));
  }
}
