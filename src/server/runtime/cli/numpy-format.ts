/**
 * str(ndarray) as numpy 2 prints it with default print options (precision 8, floatmode 'maxprec',
 * linewidth 75, threshold 1000, edgeitems 3): the alignment of elements, the switch to scientific
 * notation, line wrapping and "..." summarisation. String tensors print like TensorFlow's object
 * arrays of bytes (b'...' without padding). Works directly on HostTensors.
 */
import { DataType, dtypeEnumName } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { type FloatWidth, formatFloatScalar, formatPositional, formatScientific, halfToNumber, numberToHalf } from './dragon4.js';
import { pyBytesRepr } from './python-repr.js';

const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;

type Element = number | bigint | boolean | Uint8Array;

/** How one element becomes text, given every element that will be shown. */
type FormatFunction = (element: Element) => string;

export function formatNumpyStr(tensor: HostTensor): string {
  const { shape } = tensor;
  const get = elementGetter(tensor);
  if (shape.length === 0) return formatScalar(tensor.dtype, get(0));
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return '[]';
  const summarize = size > THRESHOLD;
  const shown = shownIndices(shape, summarize);
  const format = formatFunction(tensor.dtype, shown.map(get));
  return formatArray(shape, (i) => format(get(i)), summarize);
}

/** str() of a numpy scalar (what a 0-d output prints as). */
function formatScalar(dtype: DataType, element: Element): string {
  switch (typeof element) {
    case 'boolean': return element ? 'True' : 'False';
    case 'bigint': return element.toString();
    case 'number': {
      const width = floatWidth(dtype);
      return width ? formatFloatScalar(element, width) : String(element);
    }
    default: return pyBytesRepr(element);
  }
}

function floatWidth(dtype: DataType): FloatWidth | undefined {
  if (dtype === DataType.DT_FLOAT) return 32;
  if (dtype === DataType.DT_DOUBLE) return 64;
  if (dtype === DataType.DT_HALF) return 16;
  return undefined;
}

function elementGetter(tensor: HostTensor): (flat: number) => Element {
  const data = tensor.data;
  switch (tensor.dtype) {
    case DataType.DT_BOOL: return (i) => (data as Uint8Array)[i] !== 0;
    case DataType.DT_STRING: return (i) => (data as Uint8Array[])[i]!;
    case DataType.DT_BFLOAT16: {
      // No numpy dtype: print as the float32 values they widen to.
      const view = new Float32Array(1);
      const bits = new Uint32Array(view.buffer);
      return (i) => {
        bits[0] = (data as Uint16Array)[i]! << 16;
        return view[0]!;
      };
    }
    case DataType.DT_COMPLEX64:
    case DataType.DT_COMPLEX128:
      throw new TypeError(`printing ${dtypeEnumName(tensor.dtype)} tensors is not supported`);
    default: return (i) => (data as ArrayLike<number | bigint>)[i]!;
  }
}

/** Flat indices of the elements that are printed (all of them unless summarised). */
function shownIndices(shape: readonly number[], summarize: boolean): number[] {
  const kept = shape.map((n) =>
    summarize && n > 2 * EDGE_ITEMS
      ? [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
      : Array.from({ length: n }, (_, i) => i),
  );
  let flat = [0];
  for (let axis = 0; axis < shape.length; axis++) {
    const next: number[] = [];
    for (const base of flat) for (const i of kept[axis]!) next.push(base * shape[axis]! + i);
    flat = next;
  }
  return flat;
}

function formatFunction(dtype: DataType, shown: readonly Element[]): FormatFunction {
  if (dtype === DataType.DT_BOOL) return (x) => (x ? ' True' : 'False');
  if (dtype === DataType.DT_STRING) return (x) => pyBytesRepr(x as Uint8Array);
  if (dtype === DataType.DT_BFLOAT16) return floatFormatter(shown as number[], 32);
  const width = floatWidth(dtype);
  if (width) return floatFormatter(shown as number[], width);
  return integerFormatter(shown as Array<number | bigint>);
}

function integerFormatter(values: ReadonlyArray<number | bigint>): FormatFunction {
  let max = values[0]!;
  let min = values[0]!;
  for (const v of values) {
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const width = Math.max(String(max).length, String(min).length);
  return (x) => String(x).padStart(width);
}

/** Rounds a double to the arithmetic of the array's dtype (numpy computes max/min in it). */
function roundTo(width: FloatWidth, x: number): number {
  if (width === 32) return Math.fround(x);
  if (width === 16) return halfToNumber(numberToHalf(Math.fround(x)));
  return x;
}

/** numpy's FloatingFormat (maxprec, precision 8, no suppression, sign '-'). */
function floatFormatter(shown: readonly number[], width: FloatWidth): FormatFunction {
  // For binary16 elements are bit patterns; `valueOf` gives the number they stand for.
  const valueOf = width === 16 ? halfToNumber : (x: number): number => x;
  const finite = shown.filter((x) => Number.isFinite(valueOf(x)));
  const nonZero = finite.map((x) => Math.abs(valueOf(x))).filter((x) => x !== 0);
  let expFormat = false;
  if (nonZero.length > 0) {
    const max = Math.max(...nonZero);
    const min = Math.min(...nonZero);
    const cutoff = width === 32 ? 1e6 : width === 64 ? 1e8 : 1e3;
    if (max >= cutoff || min < roundTo(width, 0.0001) || roundTo(width, max / min) > 1000) expFormat = true;
  }

  let padLeft = 0;
  let padRight = 0;
  let precision = PRECISION;
  let expSize = -1;
  if (finite.length > 0 && expFormat) {
    const parts = finite.map((x) => formatScientific(x, width, { precision: PRECISION, unique: true, trim: '.' }));
    const [mantissas, exponents] = [parts.map((s) => s.split('e')[0]!), parts.map((s) => s.split('e')[1]!)];
    expSize = Math.max(...exponents.map((s) => s.length)) - 1;
    precision = Math.max(...mantissas.map((s) => s.split('.')[1]!.length));
    padLeft = Math.max(...mantissas.map((s) => s.split('.')[0]!.length));
    padRight = expSize + 2 + precision;
  } else if (finite.length > 0) {
    const parts = finite.map((x) => formatPositional(x, width, { precision: PRECISION, unique: true, fractional: true, trim: '.' }));
    padLeft = Math.max(...parts.map((s) => s.split('.')[0]!.length));
    padRight = Math.max(...parts.map((s) => s.split('.')[1]!.length));
  }
  if (finite.length !== shown.length) {
    const negInf = shown.some((x) => valueOf(x) === -Infinity) ? 1 : 0;
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 3 - offset, 3 + negInf - offset);
  }

  return (element) => {
    const x = element as number;
    const v = valueOf(x);
    if (!Number.isFinite(v)) {
      const text = Number.isNaN(v) ? 'nan' : v < 0 ? '-inf' : 'inf';
      return ' '.repeat(Math.max(0, padLeft + padRight + 1 - text.length)) + text;
    }
    if (expFormat) {
      return formatScientific(x, width, { precision, minDigits: precision, unique: true, trim: 'k', padLeft, expDigits: expSize });
    }
    return formatPositional(x, width, { precision: PRECISION, minDigits: 0, unique: true, fractional: true, trim: '.', padLeft, padRight });
  };
}

function extendLine(s: string, line: string, word: string, width: number, nextLinePrefix: string): [string, string] {
  let needsWrap = line.length + word.length > width;
  if (line.length <= nextLinePrefix.length) needsWrap = false;
  if (needsWrap) {
    s += `${line.trimEnd()}\n`;
    line = nextLinePrefix;
  }
  return [s, line + word];
}

/** numpy's _formatArray with separator ' ' and no prefix. */
function formatArray(shape: readonly number[], word: (flat: number) => string, summarize: boolean): string {
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const recurse = (axis: number, offset: number, hanging: string, currWidth: number): string => {
    const axesLeft = shape.length - axis;
    if (axesLeft === 0) return word(offset);
    const nextHanging = `${hanging} `;
    const nextWidth = currWidth - 1;
    const length = shape[axis]!;
    const stride = strides[axis]!;
    const showSummary = summarize && 2 * EDGE_ITEMS < length;
    const leading = showSummary ? EDGE_ITEMS : 0;
    const trailing = showSummary ? EDGE_ITEMS : length;
    const child = (i: number): string => recurse(axis + 1, offset + i * stride, nextHanging, nextWidth);
    let s = '';
    if (axesLeft === 1) {
      const elemWidth = currWidth - 1;
      let line = hanging;
      for (let i = 0; i < leading; i++) {
        [s, line] = extendLine(s, line, child(i), elemWidth, hanging);
        line += ' ';
      }
      if (showSummary) {
        [s, line] = extendLine(s, line, '...', elemWidth, hanging);
        line += ' ';
      }
      for (let i = trailing; i > 1; i--) {
        [s, line] = extendLine(s, line, child(length - i), elemWidth, hanging);
        line += ' ';
      }
      [s, line] = extendLine(s, line, child(length - 1), elemWidth, hanging);
      s += line;
    } else {
      const lineSep = '\n'.repeat(axesLeft - 1);
      for (let i = 0; i < leading; i++) s += hanging + child(i) + lineSep;
      if (showSummary) s += `${hanging}...${lineSep}`;
      for (let i = trailing; i > 1; i--) s += hanging + child(length - i) + lineSep;
      s += hanging + child(length - 1);
    }
    return `[${s.slice(hanging.length)}]`;
  };
  return recurse(0, 0, ' ', LINE_WIDTH);
}
