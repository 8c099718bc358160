/**
 * CombinedNonMaxSuppression (tf.image.combined_non_max_suppression, the end of many detection
 * heads), as TensorFlow's CPU kernel computes it: per batch and class, greedy NMS over the
 * candidates above score_threshold popped from a max-heap, IOU in float32; then all classes'
 * selections sorted by score, the top max_total_size kept (per-class padding when
 * pad_per_class), boxes clipped to [0, 1] when clip_boxes. The heap and the sort are
 * libstdc++'s own algorithms (stl-order.ts), so tied scores come out in TensorFlow's order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import type { IrNode } from '../../graph/ir.js';
import type { CustomOpImpl } from './context.js';
import { StlPriorityQueue, stlSort } from './stl-order.js';

const f = Math.fround;

interface Candidate {
  boxIndex: number;
  score: number;
}

interface ResultCandidate extends Candidate {
  classIndex: number;
  box: [number, number, number, number];
}

function boolAttr(node: IrNode, name: string, fallback: boolean): boolean {
  const v = node.attr[name]?.value;
  return v?.case === 'b' ? v.value : fallback;
}

function scalar(t: tf.Tensor, name: string): number {
  if (t.rank !== 0) throw invalidArgument(`${name} must be 0-D, got shape [${t.shape.join(',')}]`);
  return t.dataSync()[0]!;
}

/** TensorFlow's IOU of boxes at offsets i and j (corners in any order), in float32. */
function iou(boxes: ArrayLike<number>, i: number, j: number): number {
  const yminI = Math.min(boxes[i]!, boxes[i + 2]!), xminI = Math.min(boxes[i + 1]!, boxes[i + 3]!);
  const ymaxI = Math.max(boxes[i]!, boxes[i + 2]!), xmaxI = Math.max(boxes[i + 1]!, boxes[i + 3]!);
  const yminJ = Math.min(boxes[j]!, boxes[j + 2]!), xminJ = Math.min(boxes[j + 1]!, boxes[j + 3]!);
  const ymaxJ = Math.max(boxes[j]!, boxes[j + 2]!), xmaxJ = Math.max(boxes[j + 1]!, boxes[j + 3]!);
  const areaI = f(f(ymaxI - yminI) * f(xmaxI - xminI));
  const areaJ = f(f(ymaxJ - yminJ) * f(xmaxJ - xminJ));
  if (areaI <= 0 || areaJ <= 0) return 0;
  const height = Math.max(f(Math.min(ymaxI, ymaxJ) - Math.max(yminI, yminJ)), 0);
  const width = Math.max(f(Math.min(xmaxI, xmaxJ) - Math.max(xminI, xminJ)), 0);
  const intersection = f(height * width);
  return f(intersection / f(f(areaI + areaJ) - intersection));
}

const EMPTY: ResultCandidate = { boxIndex: -1, score: -1, classIndex: -1, box: [0, 0, 0, 0] };

export const combinedNonMaxSuppression: CustomOpImpl = (inputs, node) => {
  const [boxesT, scoresT, perClassT, totalT, iouT, scoreT] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const maxPerClass = scalar(perClassT, 'max_size_per_class');
  if (maxPerClass <= 0) throw invalidArgument('max_size_per_class must be positive');
  const maxTotal = scalar(totalT, 'max_total_size');
  if (maxTotal <= 0) throw invalidArgument('max_total_size must be > 0');
  const iouThreshold = f(scalar(iouT, 'iou_threshold'));
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw invalidArgument('iou_threshold must be in [0, 1]');
  const scoreThreshold = f(scalar(scoreT, 'score_threshold'));
  if (boxesT.rank !== 4) throw invalidArgument(`boxes must be 4-D[${boxesT.shape.join(',')}]`);
  if (scoresT.rank !== 3) throw invalidArgument(`scores must be 3-D[${scoresT.shape.join(',')}]`);
  const [batches, numBoxes, q] = boxesT.shape as [number, number, number, number];
  const numClasses = scoresT.shape[2]!;
  if (q !== 1 && q !== numClasses) throw invalidArgument('third dimension of boxes must be either 1 or num classes');
  if (boxesT.shape[3] !== 4) throw invalidArgument('boxes must have 4 columns');
  if (scoresT.shape[1] !== numBoxes) throw invalidArgument('scores has incompatible shape');
  const padPerClass = boolAttr(node, 'pad_per_class', false);
  const clipBoxes = boolAttr(node, 'clip_boxes', true);

  const boxes = boxesT.dataSync();
  const scores = scoresT.dataSync();
  const sizePerClass = Math.min(maxPerClass, numBoxes);
  const perBatch = padPerClass ? Math.min(maxTotal, Math.min(2147483647, maxPerClass * numClasses)) : maxTotal;
  const outBoxes = new Float32Array(batches * perBatch * 4);
  const outScores = new Float32Array(batches * perBatch);
  const outClasses = new Float32Array(batches * perBatch);
  const valid = new Int32Array(batches);
  const byScore = (a: Candidate, b: Candidate): boolean => a.score < b.score;

  for (let b = 0; b < batches; b++) {
    const results: ResultCandidate[] = new Array<ResultCandidate>(sizePerClass * numClasses).fill(EMPTY);
    const boxBase = b * numBoxes * q * 4;
    for (let c = 0; c < numClasses; c++) {
      const queue = new StlPriorityQueue<Candidate>(byScore);
      for (let i = 0; i < numBoxes; i++) {
        const score = scores[(b * numBoxes + i) * numClasses + c]!;
        if (score > scoreThreshold) queue.push({ boxIndex: i, score });
      }
      const classBox = q > 1 ? c : 0;
      const selected: number[] = [];
      while (selected.length < sizePerClass && queue.size > 0) {
        const next = queue.pop();
        const at = boxBase + (next.boxIndex * q + classBox) * 4;
        let keep = true;
        for (let j = selected.length - 1; j >= 0; j--) {
          if (iou(boxes, at, boxBase + (selected[j]! * q + classBox) * 4) > iouThreshold) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        results[selected.length + sizePerClass * c] = {
          ...next, classIndex: c, box: [boxes[at]!, boxes[at + 1]!, boxes[at + 2]!, boxes[at + 3]!],
        };
        selected.push(next.boxIndex);
      }
    }
    stlSort(results, (x, y) => x.score > y.score);
    const found = results.filter((r) => r.boxIndex > -1).length;
    const detections = padPerClass ? Math.min(perBatch, found) : Math.min(found, maxTotal);
    valid[b] = detections;
    for (let k = 0; k < detections && k < results.length; k++) {
      const r = results[k]!;
      const o = b * perBatch + k;
      for (let d = 0; d < 4; d++) outBoxes[o * 4 + d] = clipBoxes ? Math.max(Math.min(r.box[d]!, 1), 0) : r.box[d]!;
      outScores[o] = r.score;
      outClasses[o] = r.classIndex;
    }
  }
  return [
    tf.tensor3d(outBoxes, [batches, perBatch, 4]),
    tf.tensor2d(outScores, [batches, perBatch]),
    tf.tensor2d(outClasses, [batches, perBatch]),
    tf.tensor1d(valid, 'int32'),
  ];
};
