/**
 * Turns of the event loop for big gRPC calls: each waits here, and one is let through per turn.
 * grpc-js decodes messages on the event loop, and a call's conversion and run that follow are
 * synchronous work too (tens of ms for a 1 MB Predict); had every big call simply waited for the
 * next turn (setImmediate), all of a flood's calls would run in that one turn's check phase, one
 * after another, and a health probe would wait for all of them (issue 7 item 7: 20-58 s). One per
 * turn lets the probe's connection and every small call in between each big call.
 */
const waiting: Array<() => void> = [];
let scheduled = false;

/** Resolves in a later turn of the loop than any big call that asked before. */
export function bigCallTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(letOneThrough);
}

function letOneThrough(): void {
  scheduled = false;
  waiting.shift()?.();
  // Scheduled from inside the check phase: the next call runs in the next turn, after its poll phase.
  if (waiting.length > 0) schedule();
}
