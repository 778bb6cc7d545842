// Sparkplug B wants a new NBIRTH, with a new bdSeq, on every new MQTT session. The connection knows when one starts
// (after its NDEATH Will was published); the format node holds the metrics and the bdSeq. Both run in this process,
// so they meet here, by the NDEATH topic (spBv1.0/<group>/NDEATH/<edge node>).
import { EventEmitter } from 'node:events';

const bus = new EventEmitter();
bus.setMaxListeners(0);

/** Asks the format node of this edge node (if one is deployed here) for new births. */
export function requestRebirth(deathTopic: string): void {
  bus.emit(deathTopic);
}

/** Returns the function that stops listening. */
export function onRebirthRequest(deathTopic: string, listener: () => void): () => void {
  bus.on(deathTopic, listener);
  return () => bus.off(deathTopic, listener);
}
