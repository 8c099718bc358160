/**
 * Decimal formatting of binary floats the way numpy does it (its Dragon4 implementation, after
 * Steele & White / Burger & Dybvig, as modified by Ryan Juckett and numpy): shortest "unique"
 * digits or exact digits, with numpy's cutoff, minimum-digit, trimming and padding rules. Exact
 * arithmetic uses BigInt; the output matches numpy.format_float_positional/_scientific.
 */

/** Float widths numpy prints: binary16, binary32, binary64. */
export type FloatWidth = 16 | 32 | 64;

/** numpy's trim modes: 'k' keep, '.' trim zeros keep point, '0' leave one zero, '-' drop both. */
export type TrimMode = 'k' | '.' | '0' | '-';

export interface Dragon4Options {
  /** Maximum digits (fraction digits when `fractional`, else significant); -1 for none. */
  readonly precision?: number;
  /** Minimum digits, same unit as precision; -1 for none. */
  readonly minDigits?: number;
  /** Shortest digits that round-trip (true) or exact digits (false). */
  readonly unique?: boolean;
  /** Positional only: precision counts digits after the point (default true). */
  readonly fractional?: boolean;
  readonly trim?: TrimMode;
  /** Always print a sign. */
  readonly sign?: boolean;
  /** Pad with spaces to this many characters left of the point; -1 for none. */
  readonly padLeft?: number;
  /** Positional only: pad with spaces to this many characters right of the point. */
  readonly padRight?: number;
  /** Scientific only: at least this many exponent digits (default 2). */
  readonly expDigits?: number;
}

interface Decomposed {
  readonly negative: boolean;
  /** 'nan' / 'inf' for the special values. */
  readonly special?: 'nan' | 'inf';
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly mantissaBit: number;
  readonly unequalMargins: boolean;
}

const F64 = new Float64Array(1);
const F64_BITS = new BigUint64Array(F64.buffer);
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/**
 * Splits a value into mantissa * 2^exponent. For width 16 `value` is the raw binary16 bit pattern;
 * for 32 it must already be a float32 value (Math.fround), for 64 any number.
 */
export function decompose(value: number, width: FloatWidth): Decomposed {
  let mantissaBits: number;
  let exponentBits: number;
  let rawMantissa: bigint;
  let rawExponent: number;
  let negative: boolean;
  if (width === 64) {
    F64[0] = value;
    const bits = F64_BITS[0]!;
    mantissaBits = 52;
    exponentBits = 11;
    rawMantissa = bits & ((1n << 52n) - 1n);
    rawExponent = Number((bits >> 52n) & 0x7ffn);
    negative = (bits >> 63n) !== 0n;
  } else if (width === 32) {
    F32[0] = value;
    const bits = F32_BITS[0]!;
    mantissaBits = 23;
    exponentBits = 8;
    rawMantissa = BigInt(bits & 0x7fffff);
    rawExponent = (bits >>> 23) & 0xff;
    negative = bits >>> 31 !== 0;
  } else {
    const bits = value & 0xffff;
    mantissaBits = 10;
    exponentBits = 5;
    rawMantissa = BigInt(bits & 0x3ff);
    rawExponent = (bits >> 10) & 0x1f;
    negative = bits >> 15 !== 0;
  }
  const bias = (1 << (exponentBits - 1)) - 1;
  const maxExponent = (1 << exponentBits) - 1;
  if (rawExponent === maxExponent) {
    return { negative, special: rawMantissa === 0n ? 'inf' : 'nan', mantissa: 0n, exponent: 0, mantissaBit: 0, unequalMargins: false };
  }
  if (rawExponent !== 0) {
    return {
      negative,
      mantissa: (1n << BigInt(mantissaBits)) | rawMantissa,
      exponent: rawExponent - bias - mantissaBits,
      mantissaBit: mantissaBits,
      unequalMargins: rawExponent !== 1 && rawMantissa === 0n,
    };
  }
  return {
    negative,
    mantissa: rawMantissa,
    exponent: 1 - bias - mantissaBits,
    mantissaBit: rawMantissa === 0n ? 0 : rawMantissa.toString(2).length - 1,
    unequalMargins: false,
  };
}

interface DigitRequest {
  readonly unique: boolean;
  /** Cutoffs count fraction digits (positional) rather than significant digits. */
  readonly fractionMode: boolean;
  readonly cutoffMax: number;
  readonly cutoffMin: number;
}

/** The core digit generator: returns the digits and the base-10 exponent of the first one. */
function dragon4Digits(d: Decomposed, req: DigitRequest): { digits: string; exponent: number } {
  if (d.mantissa === 0n) return { digits: '0', exponent: 0 };
  const isEven = (d.mantissa & 1n) === 0n;
  let scale: bigint;
  let value: bigint;
  let marginLow: bigint;
  let marginHigh: bigint;
  const e = d.exponent;
  if (d.unequalMargins) {
    if (e > 0) {
      value = d.mantissa << BigInt(e + 2);
      scale = 4n;
      marginLow = 1n << BigInt(e);
      marginHigh = 1n << BigInt(e + 1);
    } else {
      value = d.mantissa << 2n;
      scale = 1n << BigInt(-e + 2);
      marginLow = 1n;
      marginHigh = 2n;
    }
  } else if (e > 0) {
    value = d.mantissa << BigInt(e + 1);
    scale = 2n;
    marginLow = 1n << BigInt(e);
    marginHigh = marginLow;
  } else {
    value = d.mantissa << 1n;
    scale = 1n << BigInt(-e + 1);
    marginLow = 1n;
    marginHigh = 1n;
  }
  const unequal = d.unequalMargins;

  const log10of2 = 0.3010299956639812; // log10(2) as a double, as the C code has it
  let digitExponent = Math.ceil((d.mantissaBit + e) * log10of2 - 0.69);
  if (req.cutoffMax >= 0 && req.fractionMode && digitExponent <= -req.cutoffMax) {
    digitExponent = -req.cutoffMax + 1;
  }
  if (digitExponent > 0) {
    scale *= 10n ** BigInt(digitExponent);
  } else if (digitExponent < 0) {
    const pow10 = 10n ** BigInt(-digitExponent);
    value *= pow10;
    marginLow *= pow10;
    marginHigh = unequal ? marginLow * 2n : marginLow;
  }
  if (value >= scale) {
    digitExponent += 1;
  } else {
    value *= 10n;
    marginLow *= 10n;
    marginHigh = unequal ? marginLow * 2n : marginLow;
  }

  const bufferSize = 16000;
  let cutoffMaxExponent = digitExponent - bufferSize;
  if (req.cutoffMax >= 0) {
    const desired = req.fractionMode ? -req.cutoffMax : digitExponent - req.cutoffMax;
    if (desired > cutoffMaxExponent) cutoffMaxExponent = desired;
  }
  let cutoffMinExponent = digitExponent;
  if (req.cutoffMin >= 0) {
    const desired = req.fractionMode ? -req.cutoffMin : digitExponent - req.cutoffMin;
    if (desired < cutoffMinExponent) cutoffMinExponent = desired;
  }
  let outExponent = digitExponent - 1;

  const digits: number[] = [];
  let low = false;
  let high = false;
  let outputDigit: number;
  if (req.unique) {
    for (;;) {
      digitExponent -= 1;
      outputDigit = Number(value / scale);
      value %= scale;
      const valueHigh = value + marginHigh;
      low = isEven ? value <= marginLow : value < marginLow;
      high = isEven ? valueHigh >= scale : valueHigh > scale;
      if (((low || high) && digitExponent <= cutoffMinExponent) || digitExponent === cutoffMaxExponent) break;
      digits.push(outputDigit);
      value *= 10n;
      marginLow *= 10n;
      marginHigh = unequal ? marginLow * 2n : marginLow;
    }
  } else {
    for (;;) {
      digitExponent -= 1;
      outputDigit = Number(value / scale);
      value %= scale;
      if (value === 0n || digitExponent === cutoffMaxExponent) break;
      digits.push(outputDigit);
      value *= 10n;
    }
  }

  let roundDown = low;
  if (low === high) {
    const doubled = value * 2n;
    roundDown = doubled < scale;
    if (doubled === scale) roundDown = (outputDigit & 1) === 0;
  }
  if (roundDown) {
    digits.push(outputDigit);
  } else if (outputDigit === 9) {
    // Carry into the earlier digits.
    for (;;) {
      if (digits.length === 0) {
        digits.push(1);
        outExponent += 1;
        break;
      }
      const last = digits.pop()!;
      if (last !== 9) {
        digits.push(last + 1);
        break;
      }
    }
  } else {
    digits.push(outputDigit + 1);
  }
  return { digits: digits.join(''), exponent: outExponent };
}

function signOf(d: Decomposed, options: Dragon4Options): string {
  if (d.negative) return '-';
  return options.sign ? '+' : '';
}

function infNan(d: Decomposed, options: Dragon4Options): string {
  if (d.special === 'nan') return 'nan';
  return `${signOf(d, options)}inf`;
}

/** numpy.format_float_positional for one value. */
export function formatPositional(value: number, width: FloatWidth, options: Dragon4Options = {}): string {
  const d = decompose(value, width);
  if (d.special) return infNan(d, options);
  const precision = options.precision ?? -1;
  const minDigits = options.minDigits ?? -1;
  const unique = options.unique ?? true;
  const fractional = options.fractional ?? true;
  const trim = options.trim ?? 'k';
  const padLeft = options.padLeft ?? -1;
  const padRight = options.padRight ?? -1;
  const sign = signOf(d, options);

  const { digits, exponent } = dragon4Digits(d, { unique, fractionMode: fractional, cutoffMax: precision, cutoffMin: minDigits });
  let out: string;
  let wholeDigits: number;
  let fractionDigits: number;
  if (exponent >= 0) {
    wholeDigits = exponent + 1;
    if (digits.length <= wholeDigits) {
      out = digits + '0'.repeat(wholeDigits - digits.length);
      fractionDigits = 0;
    } else {
      out = `${digits.slice(0, wholeDigits)}.${digits.slice(wholeDigits)}`;
      fractionDigits = digits.length - wholeDigits;
    }
  } else {
    const zeros = -(exponent + 1);
    out = `0.${'0'.repeat(zeros)}${digits}`;
    fractionDigits = digits.length + zeros;
    wholeDigits = 1;
  }
  if (trim !== '-' && fractionDigits === 0) out += '.';

  const addDigits = unique ? minDigits : precision;
  let desiredFraction = addDigits < 0 ? 0 : addDigits;
  if (!fractional) desiredFraction = addDigits - wholeDigits;
  if (trim === '0') {
    if (fractionDigits === 0) {
      out += '0';
      fractionDigits++;
    }
  } else if (trim === 'k' && desiredFraction > fractionDigits) {
    out += '0'.repeat(desiredFraction - fractionDigits);
    fractionDigits = desiredFraction;
  }
  if (trim !== 'k' && fractionDigits > 0) {
    while (out.endsWith('0')) {
      out = out.slice(0, -1);
      fractionDigits--;
    }
    if (out.endsWith('.')) {
      if (trim === '0') {
        out += '0';
        fractionDigits++;
      } else if (trim === '-') {
        out = out.slice(0, -1);
      }
    }
  }
  if (padRight >= fractionDigits) {
    if (trim === '-' && fractionDigits === 0) out += ' ';
    out += ' '.repeat(padRight - fractionDigits);
  }
  out = sign + out;
  const used = wholeDigits + sign.length;
  if (padLeft > used) out = ' '.repeat(padLeft - used) + out;
  return out;
}

/** numpy.format_float_scientific for one value. */
export function formatScientific(value: number, width: FloatWidth, options: Dragon4Options = {}): string {
  const d = decompose(value, width);
  if (d.special) return infNan(d, options);
  const precision = options.precision ?? -1;
  const minDigits = options.minDigits ?? -1;
  const unique = options.unique ?? true;
  const trim = options.trim ?? 'k';
  const padLeft = options.padLeft ?? -1;
  let expDigits = options.expDigits ?? -1;
  const sign = signOf(d, options);

  const leftChars = 1 + sign.length;
  let out = padLeft > leftChars ? ' '.repeat(padLeft - leftChars) : '';
  out += sign;
  const { digits, exponent } = dragon4Digits(d, {
    unique,
    fractionMode: false,
    cutoffMax: precision < 0 ? -1 : precision + 1,
    cutoffMin: minDigits < 0 ? -1 : minDigits + 1,
  });
  let mantissa = digits[0]!;
  let fractionDigits = digits.length - 1;
  if (fractionDigits > 0) mantissa += `.${digits.slice(1)}`;
  if (trim !== '-' && fractionDigits === 0) mantissa += '.';
  const addDigits = Math.max(0, unique ? minDigits : precision);
  if (trim === '0') {
    if (fractionDigits === 0) {
      mantissa += '0';
      fractionDigits++;
    }
  } else if (trim === 'k' && addDigits > fractionDigits) {
    mantissa += '0'.repeat(addDigits - fractionDigits);
    fractionDigits = addDigits;
  }
  if (trim !== 'k' && fractionDigits > 0) {
    while (mantissa.endsWith('0')) mantissa = mantissa.slice(0, -1);
    if (trim === '0' && mantissa.endsWith('.')) mantissa += '0';
  }
  if (expDigits > 5) expDigits = 5;
  if (expDigits < 0) expDigits = 2;
  const expSign = exponent >= 0 ? '+' : '-';
  const expText = String(Math.abs(exponent)).padStart(expDigits, '0');
  return `${out}${mantissa}e${expSign}${expText}`;
}

/** Largest magnitude numpy prints positionally for a float scalar (str(np.float32(x)) etc.). */
const SCALAR_MAX_POSITIONAL: Readonly<Record<FloatWidth, number>> = { 16: 1e3, 32: 1e6, 64: 1e16 };

/**
 * str() of a numpy float scalar (and of a 0-d float array): shortest digits, positional between
 * 1e-4 and a width-dependent bound, scientific outside. For width 64 this is also Python's
 * float repr.
 */
export function formatFloatScalar(value: number, width: FloatWidth): string {
  const magnitude = width === 16 ? Math.abs(halfToNumber(value)) : Math.abs(value);
  if (Number.isNaN(magnitude) || magnitude === Infinity) return formatPositional(value, width);
  if (magnitude === 0 || (magnitude >= 1e-4 && magnitude < SCALAR_MAX_POSITIONAL[width])) {
    return formatPositional(value, width, { trim: '0' });
  }
  return formatScientific(value, width, { trim: '-' });
}

/** Python's repr(float). */
export function pythonFloatRepr(value: number): string {
  return formatFloatScalar(value, 64);
}

/** The value of a binary16 bit pattern. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Rounds a number to the nearest binary16 (ties to even) and returns its bit pattern. */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | 0x7c00;
  // Work in units of the smallest subnormal (2^-24) for subnormals, else scale by the exponent.
  if (magnitude < 2 ** -14) {
    const units = roundHalfEven(magnitude / 2 ** -24);
    return sign | units; // units may reach 0x400, which is the smallest normal: still correct bits
  }
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent -= 1;
  if (2 ** (exponent + 1) <= magnitude) exponent += 1;
  let mantissa = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
