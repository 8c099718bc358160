/**
 * Floating-point numbers as TF Serving writes them (json_tensor.cc WriteDecimal): printf "%.6g"
 * when that reads back as the same value (float32 for DT_FLOAT), else "%.9g" (float32) or
 * "%.17g" (double); then ".0" is appended when the text has neither '.' nor 'e'. So 3 -> "3.0",
 * 9000000 -> "9e+06", 1/3 as float32 -> "0.333333343". NaN and infinities are the bare tokens
 * NaN, Infinity and -Infinity (rapidjson's kParseNanAndInfFlag reads them back).
 *
 * JavaScript's toExponential rounds exact ties away from zero where printf rounds them to even;
 * ties are detected and corrected so that the digits match glibc's.
 */

export function formatFloat32(value: number): string {
  const fast = formatShort(value);
  if (fast !== undefined) return fast;
  const six = value.toPrecision(6);
  // A 6-digit tie never reads back as the same float, so toPrecision's rounding is good enough here.
  if (Math.fround(Number(six)) === value) return withPointZero(formatG(value, 6, false));
  return withPointZero(formatG(value, 9));
}

export function formatFloat64(value: number): string {
  const fast = formatShort(value);
  if (fast !== undefined) return fast;
  if (Number(value.toPrecision(6)) === value) return withPointZero(formatG(value, 6, false));
  return withPointZero(formatG(value, 17));
}

/**
 * Values whose shortest round-trip form (String) has at most 6 significant digits and lies where
 * "%.6g" writes fixed notation: "%.6g" prints exactly that form (it is the nearest 6-digit decimal),
 * and it reads back as the same value. Covers whole numbers, 2.5, 0.125, ...; also non-finite values.
 */
function formatShort(value: number): string | undefined {
  if (Number.isInteger(value) && value < 1e6 && value > -1e6) {
    return value === 0 && 1 / value < 0 ? '-0.0' : `${value}.0`;
  }
  if (!Number.isFinite(value)) return value !== value ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const magnitude = value < 0 ? -value : value;
  if (magnitude < 1e-4 || magnitude >= 1e6) return undefined;
  const text = String(value);
  let digits = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39 || (leading && c === 0x30)) continue;
    leading = false;
    if (++digits > 6) return undefined;
  }
  return text.includes('.') ? text : `${text}.0`;
}

function withPointZero(text: string): string {
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

/**
 * printf("%.<precision>g", value) for a finite, non-zero value. `ties: false` skips the tie check
 * where the caller knows there is none.
 */
export function formatG(value: number, precision: number, ties = true): string {
  const negative = value < 0;
  const magnitude = negative ? -value : value;
  const exponential = magnitude.toExponential(precision - 1);
  const e = exponential.indexOf('e');
  let digits = exponential.slice(0, e).replace('.', '');
  let exponent = Number(exponential.slice(e + 1));
  const even = ties ? roundedHalfToEven(magnitude, precision) : undefined;
  if (even !== undefined) ({ digits, exponent } = even);
  return (negative ? '-' : '') + layoutG(digits, exponent, precision);
}

/**
 * When `value` lies exactly halfway between two `precision`-digit decimals and printf's rounding
 * to even differs from toExponential's rounding up, the digits printf prints; else undefined.
 */
function roundedHalfToEven(value: number, precision: number): { digits: string; exponent: number } | undefined {
  // A tie has exactly precision + 1 significant digits, the last a 5; look closer only then.
  const longer = value.toExponential(precision);
  if (longer.charCodeAt(longer.indexOf('e') - 1) !== 0x35) return undefined;
  const exact = exactDecimal(value);
  if (exact.digits.length !== precision + 1) return undefined;
  const kept = exact.digits.slice(0, precision);
  if ((kept.charCodeAt(precision - 1) - 0x30) % 2 === 1) return undefined;
  return { digits: kept, exponent: exact.exponent };
}

/** The exact decimal expansion of a positive double: significant digits and the exponent of the first. */
function exactDecimal(value: number): { digits: string; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  if (biased !== 0) mantissa |= 1n << 52n;
  const binaryExponent = (biased === 0 ? 1 : biased) - 1075;
  let all: string;
  let pointShift: number;
  if (binaryExponent >= 0) {
    all = (mantissa << BigInt(binaryExponent)).toString();
    pointShift = 0;
  } else {
    // m * 2^-k = m * 5^k / 10^k
    all = (mantissa * 5n ** BigInt(-binaryExponent)).toString();
    pointShift = binaryExponent;
  }
  const digits = all.replace(/0+$/, '');
  return { digits, exponent: all.length - 1 + pointShift };
}

/** %g layout of `digits` (d.ddd x 10^exponent): fixed when -4 <= exponent < precision, trailing zeros dropped. */
function layoutG(digits: string, exponent: number, precision: number): string {
  if (exponent < -4 || exponent >= precision) {
    const mantissa = trimFraction(digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits);
    const size = exponent < 0 ? -exponent : exponent;
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${size < 10 ? '0' : ''}${size}`;
  }
  if (exponent < 0) return trimFraction(`0.${'0'.repeat(-exponent - 1)}${digits}`);
  const whole = exponent + 1;
  if (digits.length <= whole) return digits + '0'.repeat(whole - digits.length);
  return trimFraction(`${digits.slice(0, whole)}.${digits.slice(whole)}`);
}

function trimFraction(text: string): string {
  if (!text.includes('.')) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end--;
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  return text.slice(0, end);
}
