/** Our implementations of ops tfjs-converter lacks, registered once per process. */
import { registerOp, type GraphNode } from '@tensorflow/tfjs-converter';
import { toServingError } from '../../../errors.js';
import { AFTER_OP, ASSIGN_VARIABLE_OP, CONV2D_OP, FUSED_ELEMENTWISE_OP, GATHER_STRINGS_OP, INT64_CHECK_OP, READ_VARIABLE_OP, SELECT_V1_OP, TENSOR_LIST_SET_ITEM_OP, ZEROS_LIKE_STRINGS_OP } from '../../graph/names.js';
import { type CustomOpImpl, contextOf } from './context.js';
import { gatherStrings } from './gather-strings.js';
import { raggedGather, raggedRange, raggedTensorToTensor } from './ragged.js';
import { assertOp } from './assert.js';
import { adjustContrastV2, adjustHue, adjustSaturation, hsvToRgb, rgbToHsv } from './color.js';
import { bincount, denseBincount, raggedBincount } from './bincount.js';
import { combinedNonMaxSuppression } from './combined-nms.js';
import { conv2d } from './conv2d.js';
import { fusedElementwise } from './fused-elementwise.js';
import { ctcGreedyDecoder } from './ctc-greedy.js';
import { decodePng } from './decode-png.js';
import { extractImagePatches } from './extract-patches.js';
import { resizeArea, resizeBicubic } from './resize.js';
import { scaleAndTranslate } from './scale-translate.js';
import { selectV1 } from './select.js';
import { irfft, rfft } from './spectral.js';
import { sparseCross, sparseCrossV2, zerosLikeStrings } from './sparse-cross.js';
import { unsortedSegmentMax, unsortedSegmentMin, unsortedSegmentProd, unsortedSegmentSum } from './segments.js';
import { tensorListSetItem, tensorListStack } from './tensor-list.js';
import { bucketize, checkInt64, erfc, matrixBandPart, softsign, spaceToDepth } from './math.js';
import { parseExampleV1, parseExampleV2 } from './parse-example.js';
import {
  asString,
  reduceJoin,
  stringJoin,
  stringLength,
  stringLower,
  stringSplitV2,
  stringUpper,
  substr,
} from './strings.js';
import { after, assignVariable, readVariable } from './variables.js';

const CUSTOM_OPS: Readonly<Record<string, CustomOpImpl>> = {
  [READ_VARIABLE_OP]: readVariable,
  [ASSIGN_VARIABLE_OP]: assignVariable,
  [AFTER_OP]: after,
  [INT64_CHECK_OP]: checkInt64,
  [GATHER_STRINGS_OP]: gatherStrings,
  [SELECT_V1_OP]: selectV1,
  [CONV2D_OP]: conv2d,
  [FUSED_ELEMENTWISE_OP]: fusedElementwise,
  [ZEROS_LIKE_STRINGS_OP]: zerosLikeStrings,
  Assert: assertOp,
  DecodePng: decodePng,
  DecodeImage: decodePng,
  ParseExample: parseExampleV1,
  ParseExampleV2: parseExampleV2,
  ResizeBicubic: resizeBicubic,
  ScaleAndTranslate: scaleAndTranslate,
  RGBToHSV: rgbToHsv,
  HSVToRGB: hsvToRgb,
  AdjustContrastv2: adjustContrastV2,
  AdjustSaturation: adjustSaturation,
  AdjustHue: adjustHue,
  ResizeArea: resizeArea,
  Bincount: bincount,
  DenseBincount: denseBincount,
  RaggedBincount: raggedBincount,
  ExtractImagePatches: extractImagePatches,
  CombinedNonMaxSuppression: combinedNonMaxSuppression,
  RFFT: rfft,
  IRFFT: irfft,
  SparseCross: sparseCross,
  SparseCrossV2: sparseCrossV2,
  CTCGreedyDecoder: ctcGreedyDecoder,
  Softsign: softsign,
  Bucketize: bucketize,
  Erfc: erfc,
  MatrixBandPart: matrixBandPart,
  SpaceToDepth: spaceToDepth,
  StringLower: stringLower,
  StringUpper: stringUpper,
  StringLength: stringLength,
  Substr: substr,
  StringJoin: stringJoin,
  ReduceJoin: reduceJoin,
  AsString: asString,
  StringSplitV2: stringSplitV2,
  RaggedTensorToTensor: raggedTensorToTensor,
  RaggedRange: raggedRange,
  RaggedGather: raggedGather,
  TensorListStack: tensorListStack,
  UnsortedSegmentSum: unsortedSegmentSum,
  UnsortedSegmentMax: unsortedSegmentMax,
  UnsortedSegmentMin: unsortedSegmentMin,
  UnsortedSegmentProd: unsortedSegmentProd,
  [TENSOR_LIST_SET_ITEM_OP]: tensorListSetItem,
};

export const isCustomOp = (op: string): boolean => Object.hasOwn(CUSTOM_OPS, op);

let registered = false;

export function registerCustomOps(): void {
  if (registered) return;
  registered = true;
  for (const [name, impl] of Object.entries(CUSTOM_OPS)) {
    registerOp(name, (graphNode: GraphNode) => {
      const { model, node } = contextOf(graphNode);
      try {
        return impl(graphNode.inputs, node, model, graphNode);
      } catch (error) {
        throw toServingError(error, `${node.op} node "${node.name}"`);
      }
    });
  }
}
