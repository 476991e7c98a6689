//! Software IEEE 754 binary32 and binary64 arithmetic with the exact results and `fflags` of
//! the RISC-V F and D extensions.
//!
//! Values are raw bit patterns (`u32` for single, `u64` for double), so a guest value never
//! lives in a host float: hosts quiet or rewrite NaN payloads, and wasm leaves NaN bits
//! nondeterministic. Every operation is correctly rounded in each of the five static rounding
//! modes and ORs the exceptions it raises into `flags`, never clearing one. Tininess is detected
//! after rounding, every NaN result is the canonical NaN and conversions to integers saturate
//! (unprivileged ISA, "F" Standard Extension: "Floating-Point Control and Status Register",
//! "NaN Generation and Propagation", "Single-Precision Floating-Point Conversion and Move
//! Instructions").
//!
//! The interpreter resolves the dynamic rounding mode (raising illegal-instruction for 5, 6 and
//! a bad `frm`), builds FMSUB, FNMSUB and FNMADD by flipping the sign bits of the operands, does
//! sign injection and moves, and NaN-boxes single results with [`box_s`].
//!
//! One core serves both formats: an operand is unpacked into sign, exponent and integer
//! significand, the operation is computed exactly or with a sticky bit, and `round_pack` rounds
//! once. In round-to-nearest-even, the mode compiled code runs in, add, subtract, multiply,
//! divide and square root first try the host's float unit, which IEEE 754 (and wasm) make
//! correctly rounded in that mode; each such path is taken only where the host result is the
//! same and the flags follow exactly from it, and never allocates. FMA, the other modes and the
//! edge cases (NaN, infinity, overflow, tiny results) take the exact path.

use std::cmp::Ordering;

/// Round to nearest, ties to even.
pub const RM_RNE: u8 = 0;
/// Round towards zero.
pub const RM_RTZ: u8 = 1;
/// Round down, towards negative infinity.
pub const RM_RDN: u8 = 2;
/// Round up, towards positive infinity.
pub const RM_RUP: u8 = 3;
/// Round to nearest, ties away from zero.
pub const RM_RMM: u8 = 4;

/// Inexact.
pub const NX: u8 = 0x01;
/// Underflow.
pub const UF: u8 = 0x02;
/// Overflow.
pub const OF: u8 = 0x04;
/// Divide by zero.
pub const DZ: u8 = 0x08;
/// Invalid operation.
pub const NV: u8 = 0x10;

/// The canonical single NaN, also what [`unbox_s`] reads from an improperly boxed register.
const CANONICAL_NAN_S: u32 = 0x7fc0_0000;

/// NaN-boxes a single for a 64-bit f register: the upper 32 bits are all ones (ISA "D"
/// extension, "NaN Boxing of Narrower Values").
pub fn box_s(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | u64::from(v)
}

/// Reads a single from a 64-bit f register; one that is not properly NaN-boxed reads as the
/// canonical NaN.
pub fn unbox_s(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        CANONICAL_NAN_S
    }
}

/// A binary interchange format, described by its field widths.
#[derive(Clone, Copy)]
struct Format {
    /// Stored fraction bits; the precision is one more.
    frac_bits: u32,
    exp_bits: u32,
}

const F32: Format = Format {
    frac_bits: 23,
    exp_bits: 8,
};
const F64: Format = Format {
    frac_bits: 52,
    exp_bits: 11,
};

impl Format {
    /// Significant bits, the hidden one included.
    const fn precision(self) -> i32 {
        self.frac_bits as i32 + 1
    }

    const fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    /// Exponent of the smallest normal number.
    const fn emin(self) -> i32 {
        1 - self.bias()
    }

    /// Exponent of the largest finite number.
    const fn emax(self) -> i32 {
        self.bias()
    }

    const fn sign_bit(self) -> u64 {
        1 << (self.frac_bits + self.exp_bits)
    }

    const fn frac_mask(self) -> u64 {
        (1 << self.frac_bits) - 1
    }

    /// The all-ones exponent field of infinities and NaNs.
    const fn exp_field_max(self) -> u64 {
        (1 << self.exp_bits) - 1
    }

    const fn sign(self, negative: bool) -> u64 {
        if negative { self.sign_bit() } else { 0 }
    }

    const fn zero(self, negative: bool) -> u64 {
        self.sign(negative)
    }

    const fn inf(self, negative: bool) -> u64 {
        self.sign(negative) | self.exp_field_max() << self.frac_bits
    }

    const fn max_finite(self, negative: bool) -> u64 {
        self.inf(negative) - 1
    }

    /// Positive, quiet, payload zero: the only NaN a RISC-V operation produces.
    const fn canonical_nan(self) -> u64 {
        self.inf(false) | 1 << (self.frac_bits - 1)
    }

    const fn is_nan(self, x: u64) -> bool {
        x & !self.sign_bit() > self.inf(false)
    }

    const fn is_snan(self, x: u64) -> bool {
        self.is_nan(x) && x & 1 << (self.frac_bits - 1) == 0
    }
}

/// A number that is not a NaN.
#[derive(Clone, Copy)]
enum Num {
    Zero,
    /// `sig * 2^exp` with `sig != 0`; the significand of a normal number has its hidden bit.
    Finite {
        exp: i32,
        sig: u64,
    },
    Inf,
}

/// An operand as the arithmetic sees it.
#[derive(Clone, Copy)]
enum Operand {
    Nan {
        signaling: bool,
    },
    /// Sign (true for negative) and magnitude.
    Num(bool, Num),
}

fn unpack(fmt: Format, bits: u64) -> Operand {
    let negative = bits & fmt.sign_bit() != 0;
    let exp_field = (bits >> fmt.frac_bits) & fmt.exp_field_max();
    let frac = bits & fmt.frac_mask();
    if exp_field == fmt.exp_field_max() {
        if frac == 0 {
            Operand::Num(negative, Num::Inf)
        } else {
            Operand::Nan {
                signaling: frac >> (fmt.frac_bits - 1) == 0,
            }
        }
    } else if exp_field == 0 {
        if frac == 0 {
            Operand::Num(negative, Num::Zero)
        } else {
            let exp = fmt.emin() - fmt.frac_bits as i32;
            Operand::Num(negative, Num::Finite { exp, sig: frac })
        }
    } else {
        let exp = exp_field as i32 - fmt.bias() - fmt.frac_bits as i32;
        let sig = frac | 1 << fmt.frac_bits;
        Operand::Num(negative, Num::Finite { exp, sig })
    }
}

/// Unpacks the operands of an operation, or returns `None` if one is a NaN, in which case the
/// result is the canonical NaN; a signaling NaN raises NV.
fn operands<const N: usize>(
    fmt: Format,
    bits: [u64; N],
    flags: &mut u8,
) -> Option<[(bool, Num); N]> {
    let mut out = [(false, Num::Zero); N];
    let mut nan = false;
    for (slot, &x) in out.iter_mut().zip(&bits) {
        match unpack(fmt, x) {
            Operand::Num(negative, num) => *slot = (negative, num),
            Operand::Nan { signaling } => {
                nan = true;
                if signaling {
                    *flags |= NV;
                }
            }
        }
    }
    if nan { None } else { Some(out) }
}

/// The result of an invalid operation.
fn invalid(fmt: Format, flags: &mut u8) -> u64 {
    *flags |= NV;
    fmt.canonical_nan()
}

/// Whether a truncated magnitude must be incremented: `odd` is its lowest kept bit, `half` the
/// first discarded bit and `sticky` whether any bit below that was set.
///
/// `rm` is a resolved static mode; any other value rounds to nearest-even.
fn round_increment(rm: u8, negative: bool, odd: bool, half: bool, sticky: bool) -> bool {
    match rm {
        RM_RTZ => false,
        RM_RDN => negative && (half || sticky),
        RM_RUP => !negative && (half || sticky),
        RM_RMM => half,
        _ => half && (sticky || odd),
    }
}

/// `sig >> shift` with the first discarded bit and whether any lower bit was set. A negative
/// `shift` shifts left; callers keep the result within 128 bits.
fn shift_round(sig: u128, shift: i32) -> (u128, bool, bool) {
    match shift {
        ..=0 => (sig << -shift, false, false),
        1..=127 => {
            let half = 1u128 << (shift - 1);
            (sig >> shift, sig & half != 0, sig & (half - 1) != 0)
        }
        128 => (0, sig >> 127 != 0, sig << 1 != 0),
        _ => (0, false, sig != 0),
    }
}

/// `x >> shift`, ORing any discarded bit into the lowest bit ("jamming"). Results computed this
/// way round like the exact ones as long as rounding drops at least two bits: the exact and the
/// jammed value then lie strictly between the same two multiples of 2.
fn shift_right_jam(x: u128, shift: i32) -> u128 {
    match shift {
        ..=0 => x,
        1..=127 => x >> shift | u128::from(x << (128 - shift) != 0),
        _ => u128::from(x != 0),
    }
}

/// Index of the highest set bit of a nonzero `x`.
fn msb(x: u128) -> i32 {
    127 - x.leading_zeros() as i32
}

/// Rounds `(-1)^negative * sig * 2^exp`, `sig != 0`, to `fmt` in mode `rm`, raising NX, UF and
/// OF as the ISA requires, and packs it.
fn round_pack(fmt: Format, negative: bool, exp: i32, sig: u128, rm: u8, flags: &mut u8) -> u64 {
    debug_assert!(sig != 0, "round_pack is only called on nonzero values");
    let p = fmt.precision();
    let emin = fmt.emin();
    let msb = msb(sig);
    // The value lies in [2^top, 2^(top+1)).
    let top = exp + msb;
    // Exponent of the result's last bit: p significant bits, but subnormals have a fixed one.
    let mut quantum = (top - (p - 1)).max(emin - (p - 1));
    // quantum - exp >= msb - (p - 1) > -p, so a left shift keeps m below 2^p.
    let (mut m, half, sticky) = shift_round(sig, quantum - exp);
    if round_increment(rm, negative, m & 1 != 0, half, sticky) {
        m += 1;
        if m >> p != 0 {
            m >>= 1;
            quantum += 1;
        }
    }
    if half || sticky {
        *flags |= NX;
        if top < emin && is_tiny_after_rounding(fmt, negative, top, sig, rm) {
            *flags |= UF;
        }
    }
    let normal = m >> (p - 1) != 0;
    if normal && quantum + (p - 1) > fmt.emax() {
        *flags |= OF | NX;
        let to_inf = match rm {
            RM_RTZ => false,
            RM_RDN => negative,
            RM_RUP => !negative,
            _ => true,
        };
        return if to_inf {
            fmt.inf(negative)
        } else {
            fmt.max_finite(negative)
        };
    }
    // A normal m carries the hidden bit, which the biased exponent field absorbs; a subnormal
    // (or zero) m has quantum == emin - (p - 1) and an exponent field of zero.
    let exp_field = if normal {
        (quantum + (p - 1) + fmt.bias()) as u64
    } else {
        0
    };
    fmt.sign(negative) | exp_field << fmt.frac_bits | (m as u64 & fmt.frac_mask())
}

/// Whether a value below 2^emin stays below it when rounded to the format's precision with an
/// unbounded exponent: RISC-V detects tininess after rounding, so a value that rounds up to the
/// smallest normal is not tiny.
fn is_tiny_after_rounding(fmt: Format, negative: bool, top: i32, sig: u128, rm: u8) -> bool {
    let p = fmt.precision();
    if top < fmt.emin() - 1 {
        return true;
    }
    let (m, half, sticky) = shift_round(sig, msb(sig) - (p - 1));
    let m = m + u128::from(round_increment(rm, negative, m & 1 != 0, half, sticky));
    m >> p == 0
}

/// A signed exact intermediate `(-1)^negative * sig * 2^exp`.
#[derive(Clone, Copy)]
struct Exact {
    negative: bool,
    exp: i32,
    sig: u128,
}

/// Rounds the sum of two nonzero exact values whose significands have at most 106 bits (the
/// product of two binary64 significands).
fn add_exact(fmt: Format, x: Exact, y: Exact, rm: u8, flags: &mut u8) -> u64 {
    // Put both highest bits at 125, leaving room for the carry out of the addition.
    let normalize = |v: Exact| {
        let shift = 125 - msb(v.sig);
        (v.exp - shift, v.sig << shift)
    };
    let (mut big, mut small) = (x, y);
    let (mut big_exp, mut big_sig) = normalize(big);
    let (mut small_exp, mut small_sig) = normalize(small);
    if (small_exp, small_sig) > (big_exp, big_sig) {
        std::mem::swap(&mut big, &mut small);
        std::mem::swap(&mut big_exp, &mut small_exp);
        std::mem::swap(&mut big_sig, &mut small_sig);
    }
    // The smaller operand's lowest bit sits at 20 or above, so jamming loses bits only when the
    // exponents differ by more than 20. The difference then cancels at most one leading bit and
    // rounding drops over 60 bits, which is what makes the jammed sum round correctly.
    let small_sig = shift_right_jam(small_sig, big_exp - small_exp);
    let sig = if big.negative == small.negative {
        big_sig + small_sig
    } else {
        big_sig - small_sig
    };
    if sig == 0 {
        // IEEE 754 §6.3: an exact zero sum of opposite signs is +0, or -0 when rounding down.
        return fmt.zero(rm == RM_RDN);
    }
    round_pack(fmt, big.negative, big_exp, sig, rm, flags)
}

fn add(fmt: Format, a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    let Some([(sa, na), (sb, nb)]) = operands(fmt, [a, b], flags) else {
        return fmt.canonical_nan();
    };
    match (na, nb) {
        (Num::Inf, Num::Inf) if sa != sb => invalid(fmt, flags),
        (Num::Inf, _) => a,
        (_, Num::Inf) => b,
        (Num::Zero, Num::Zero) if sa != sb => fmt.zero(rm == RM_RDN),
        (_, Num::Zero) => a,
        (Num::Zero, _) => b,
        (Num::Finite { exp: ea, sig: ma }, Num::Finite { exp: eb, sig: mb }) => {
            let x = Exact {
                negative: sa,
                exp: ea,
                sig: ma.into(),
            };
            let y = Exact {
                negative: sb,
                exp: eb,
                sig: mb.into(),
            };
            add_exact(fmt, x, y, rm, flags)
        }
    }
}

fn mul(fmt: Format, a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    let Some([(sa, na), (sb, nb)]) = operands(fmt, [a, b], flags) else {
        return fmt.canonical_nan();
    };
    let negative = sa != sb;
    match (na, nb) {
        (Num::Inf, Num::Zero) | (Num::Zero, Num::Inf) => invalid(fmt, flags),
        (Num::Inf, _) | (_, Num::Inf) => fmt.inf(negative),
        (Num::Zero, _) | (_, Num::Zero) => fmt.zero(negative),
        (Num::Finite { exp: ea, sig: ma }, Num::Finite { exp: eb, sig: mb }) => {
            let sig = u128::from(ma) * u128::from(mb);
            round_pack(fmt, negative, ea + eb, sig, rm, flags)
        }
    }
}

fn div(fmt: Format, a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    let Some([(sa, na), (sb, nb)]) = operands(fmt, [a, b], flags) else {
        return fmt.canonical_nan();
    };
    let negative = sa != sb;
    match (na, nb) {
        (Num::Inf, Num::Inf) | (Num::Zero, Num::Zero) => invalid(fmt, flags),
        (Num::Inf, _) | (_, Num::Zero) => {
            if matches!(na, Num::Finite { .. }) {
                *flags |= DZ;
            }
            fmt.inf(negative)
        }
        (Num::Zero, _) | (_, Num::Inf) => fmt.zero(negative),
        (Num::Finite { exp: ea, sig: ma }, Num::Finite { exp: eb, sig: mb }) => {
            // Dividend's highest bit at 126 and divisor below 2^53: the quotient has over 73
            // bits, far more than rounding needs, and the remainder is jammed into the last.
            let shift = 126 - msb(ma.into());
            let dividend = u128::from(ma) << shift;
            let divisor = u128::from(mb);
            let quotient = dividend / divisor;
            let sig = quotient | u128::from(!dividend.is_multiple_of(divisor));
            round_pack(fmt, negative, ea - shift - eb, sig, rm, flags)
        }
    }
}

fn sqrt(fmt: Format, a: u64, rm: u8, flags: &mut u8) -> u64 {
    let Some([(negative, num)]) = operands(fmt, [a], flags) else {
        return fmt.canonical_nan();
    };
    match (negative, num) {
        // IEEE 754 §5.4.1: sqrt(-0) is -0.
        (_, Num::Zero) | (false, Num::Inf) => a,
        (true, _) => invalid(fmt, flags),
        (false, Num::Finite { exp, sig }) => {
            // Radicand with its highest bit at 124 or 125 and an even exponent: the root has 63
            // bits, ten more than rounding needs, and an inexact root is jammed.
            let mut shift = 124 - msb(sig.into());
            if (exp - shift) & 1 != 0 {
                shift += 1;
            }
            let radicand = u128::from(sig) << shift;
            let root = isqrt(radicand);
            let sig = root | u128::from(root * root != radicand);
            round_pack(fmt, false, (exp - shift) / 2, sig, rm, flags)
        }
    }
}

/// The floor of the square root of `x`, for `2^124 <= x < 2^126`.
fn isqrt(x: u128) -> u128 {
    // The host square root is correctly rounded (IEEE 754, and wasm's f64.sqrt), so the estimate
    // is within about 2^11 of the root; one Newton step from it lands on the floor or one above,
    // and the loops make the last correction.
    let estimate = (x as f64).sqrt() as u128;
    let mut root = (estimate + x / estimate) / 2;
    while root * root > x {
        root -= 1;
    }
    while (root + 1) * (root + 1) <= x {
        root += 1;
    }
    root
}

fn fma(fmt: Format, a: u64, b: u64, c: u64, rm: u8, flags: &mut u8) -> u64 {
    // ISA "Single-Precision Floating-Point Computational Instructions": ∞ × 0 raises NV even
    // when the addend is a quiet NaN.
    if let (Operand::Num(_, na), Operand::Num(_, nb)) = (unpack(fmt, a), unpack(fmt, b))
        && matches!((na, nb), (Num::Inf, Num::Zero) | (Num::Zero, Num::Inf))
    {
        return invalid(fmt, flags);
    }
    let Some([(sa, na), (sb, nb), (sc, nc)]) = operands(fmt, [a, b, c], flags) else {
        return fmt.canonical_nan();
    };
    let sp = sa != sb;
    match (na, nb, nc) {
        (Num::Inf, _, Num::Inf) | (_, Num::Inf, Num::Inf) if sp != sc => invalid(fmt, flags),
        (Num::Inf, _, _) | (_, Num::Inf, _) => fmt.inf(sp),
        (_, _, Num::Inf) => c,
        (Num::Zero, _, Num::Zero) | (_, Num::Zero, Num::Zero) if sp != sc => fmt.zero(rm == RM_RDN),
        (Num::Zero, _, _) | (_, Num::Zero, _) => c,
        (Num::Finite { exp: ea, sig: ma }, Num::Finite { exp: eb, sig: mb }, nc) => {
            let product = Exact {
                negative: sp,
                exp: ea + eb,
                sig: u128::from(ma) * u128::from(mb),
            };
            match nc {
                Num::Finite { exp, sig } => {
                    let addend = Exact {
                        negative: sc,
                        exp,
                        sig: sig.into(),
                    };
                    add_exact(fmt, product, addend, rm, flags)
                }
                _ => round_pack(fmt, sp, product.exp, product.sig, rm, flags),
            }
        }
    }
}

/// fmin/fmax: IEEE 754-2019 minimumNumber/maximumNumber, as the ISA requires since version 2.2
/// of the F extension.
fn min_max(fmt: Format, a: u64, b: u64, max: bool, flags: &mut u8) -> u64 {
    if fmt.is_snan(a) || fmt.is_snan(b) {
        *flags |= NV;
    }
    match (fmt.is_nan(a), fmt.is_nan(b)) {
        (true, true) => fmt.canonical_nan(),
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            if (order_key(fmt, a) < order_key(fmt, b)) != max {
                a
            } else {
                b
            }
        }
    }
}

/// Maps a non-NaN value to an integer with the same order, -0 just below +0.
fn order_key(fmt: Format, x: u64) -> u64 {
    let magnitude = x & !fmt.sign_bit();
    if x & fmt.sign_bit() != 0 {
        fmt.sign_bit() - 1 - magnitude
    } else {
        fmt.sign_bit() + magnitude
    }
}

/// Compares two values, or returns `None` when unordered. A NaN raises NV if it is signaling or
/// if the comparison is (FLT and FLE are signaling, FEQ is quiet).
fn compare(fmt: Format, a: u64, b: u64, signaling: bool, flags: &mut u8) -> Option<Ordering> {
    if fmt.is_nan(a) || fmt.is_nan(b) {
        if signaling || fmt.is_snan(a) || fmt.is_snan(b) {
            *flags |= NV;
        }
        return None;
    }
    if (a | b) & !fmt.sign_bit() == 0 {
        return Some(Ordering::Equal);
    }
    Some(order_key(fmt, a).cmp(&order_key(fmt, b)))
}

/// The fclass mask (ISA table "Format of result of FCLASS instruction").
fn class(fmt: Format, a: u64) -> u64 {
    let exp_field = (a >> fmt.frac_bits) & fmt.exp_field_max();
    let frac = a & fmt.frac_mask();
    // Bit index for a negative value; a positive one mirrors it at 7 - index.
    let negative_index = match (exp_field, frac) {
        (0, 0) => 3,
        (0, _) => 2,
        (e, 0) if e == fmt.exp_field_max() => 0,
        (e, _) if e == fmt.exp_field_max() => {
            return if fmt.is_snan(a) { 1 << 8 } else { 1 << 9 };
        }
        _ => 1,
    };
    if a & fmt.sign_bit() != 0 {
        1 << negative_index
    } else {
        1 << (7 - negative_index)
    }
}

/// Converts to an integer in `[min, max]`. Conversions saturate (ISA table "Domains of
/// float-to-integer conversions and behavior for invalid inputs"): NaN and +∞ give `max`, -∞
/// gives `min` and values that round outside the range give the nearer bound, raising NV and
/// nothing else. A negative value that rounds to zero is in range for unsigned targets.
fn to_int(fmt: Format, a: u64, rm: u8, flags: &mut u8, min: i128, max: i128) -> i128 {
    let (negative, num) = match unpack(fmt, a) {
        Operand::Nan { .. } => {
            *flags |= NV;
            return max;
        }
        Operand::Num(negative, num) => (negative, num),
    };
    let (magnitude, inexact) = match num {
        Num::Zero => (0, false),
        Num::Inf => {
            *flags |= NV;
            return if negative { min } else { max };
        }
        Num::Finite { exp, sig } if exp >= 0 => {
            // At 2^64 and beyond every target saturates, so the shift is capped to stay within
            // i128 while still comparing out of range.
            (u128::from(sig) << exp.min(64), false)
        }
        Num::Finite { exp, sig } => {
            let (m, half, sticky) = shift_round(sig.into(), -exp);
            let m = m + u128::from(round_increment(rm, negative, m & 1 != 0, half, sticky));
            (m, half || sticky)
        }
    };
    // magnitude < 2^117, so it converts to i128 exactly.
    let value = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    if value < min {
        *flags |= NV;
        min
    } else if value > max {
        *flags |= NV;
        max
    } else {
        if inexact {
            *flags |= NX;
        }
        value
    }
}

/// Converts an integer given as sign and magnitude. Zero converts to +0.
fn from_int(fmt: Format, negative: bool, magnitude: u64, rm: u8, flags: &mut u8) -> u64 {
    if magnitude == 0 {
        return fmt.zero(false);
    }
    round_pack(fmt, negative, 0, magnitude.into(), rm, flags)
}

/// Converts between formats, rounding if `to` is narrower.
fn convert(from: Format, to: Format, a: u64, rm: u8, flags: &mut u8) -> u64 {
    let Some([(negative, num)]) = operands(from, [a], flags) else {
        return to.canonical_nan();
    };
    match num {
        Num::Zero => to.zero(negative),
        Num::Inf => to.inf(negative),
        Num::Finite { exp, sig } => round_pack(to, negative, exp, sig.into(), rm, flags),
    }
}

/// The low half of a result in [`F32`], whose upper 32 bits are always clear.
fn single(bits: u64) -> u32 {
    bits as u32
}

/// The significand of a finite nonzero binary64 with its trailing zeros removed. Two such
/// values are equal exactly when the numbers differ by a power of two, which lets the host
/// fast paths below test a rounded result for exactness with one integer multiply.
fn f64_odd_significand(v: u64) -> u64 {
    let frac = v & F64.frac_mask();
    let sig = if (v & !F64.sign_bit()) >> F64.frac_bits == 0 {
        frac
    } else {
        frac | 1 << F64.frac_bits
    };
    sig >> sig.trailing_zeros()
}

/// Whether the product of the finite nonzero binary64s `x` and `y` needs more than 53
/// significant bits, so that no binary64 holds it.
fn f64_product_inexact(x: u64, y: u64) -> bool {
    let (ox, oy) = (f64_odd_significand(x), f64_odd_significand(y));
    let width = (64 - ox.leading_zeros()) + (64 - oy.leading_zeros());
    // Narrower odd parts multiply below 2^54 without overflow; wider ones give at least 2^53.
    width > 54 || (ox * oy) >> F64.precision() != 0
}

/// The RNE binary64 sum from the host, when both operands are finite and below 2^1020 in
/// magnitude: then 2Sum (Knuth, TAOCP vol. 2 §4.2.2) cannot overflow and gives the exact
/// rounding error. A sum never underflows, because every sum below 2^emin is exact.
fn f64_add_host(a: u64, b: u64, flags: &mut u8) -> Option<u64> {
    const LIMIT: u64 = ((1020 + 1023) as u64) << 52;
    if a & !F64.sign_bit() >= LIMIT || b & !F64.sign_bit() >= LIMIT {
        return None;
    }
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    let sum = x + y;
    let y_part = sum - x;
    let x_part = sum - y_part;
    let error = (x - x_part) + (y - y_part);
    if error != 0.0 {
        *flags |= NX;
    }
    Some(sum.to_bits())
}

/// The RNE binary64 product from the host, when it is finite and above the smallest normal:
/// such a result cannot have overflowed or be tiny, and is inexact exactly when the
/// significands say so. Everything else (NaN, ∞, zero, tiny) takes the exact path.
fn f64_mul_host(a: u64, b: u64, flags: &mut u8) -> Option<u64> {
    let product = f64::from_bits(a) * f64::from_bits(b);
    let magnitude = product.abs();
    if !(magnitude > f64::MIN_POSITIVE && magnitude <= f64::MAX) {
        return None;
    }
    if f64_product_inexact(a, b) {
        *flags |= NX;
    }
    Some(product.to_bits())
}

/// The RNE binary64 quotient from the host, when it is finite and above the smallest normal
/// (so neither overflowed nor tiny, and the operands were finite and nonzero). The quotient
/// `q` is exact when `q × b = a`; as `q` is within an ulp of `a / b`, that holds exactly when
/// the odd significands multiply out.
fn f64_div_host(a: u64, b: u64, flags: &mut u8) -> Option<u64> {
    let quotient = f64::from_bits(a) / f64::from_bits(b);
    let magnitude = quotient.abs();
    if !(magnitude > f64::MIN_POSITIVE && magnitude <= f64::MAX) {
        return None;
    }
    let q = quotient.to_bits();
    let product = u128::from(f64_odd_significand(q)) * u128::from(f64_odd_significand(b));
    if product != u128::from(f64_odd_significand(a)) {
        *flags |= NX;
    }
    Some(q)
}

/// The RNE binary64 square root from the host, for a positive finite operand: the root is
/// then normal, and exact when its odd significand squares to the operand's.
fn f64_sqrt_host(a: u64, flags: &mut u8) -> Option<u64> {
    if a == 0 || a >= F64.inf(false) {
        return None;
    }
    let root = f64::from_bits(a).sqrt().to_bits();
    let odd = u128::from(f64_odd_significand(root));
    if odd * odd != u128::from(f64_odd_significand(a)) {
        *flags |= NX;
    }
    Some(root)
}

/// Whether a binary32 is an infinity or a NaN.
fn f32_is_special(x: u32) -> bool {
    x & 0x7f80_0000 == 0x7f80_0000
}

/// The RNE binary32 sum from the host: the binary64 sum of two singles, rounded again to single,
/// is the correctly rounded single sum (binary64 has more than 2 × 24 + 2 bits, Figueroa 1995).
/// 2Sum says whether the binary64 sum was exact; if it was not, the single sum is not either.
fn f32_add_host(a: u32, b: u32, flags: &mut u8) -> Option<u32> {
    if f32_is_special(a) || f32_is_special(b) {
        return None;
    }
    let (x, y) = (f64::from(f32::from_bits(a)), f64::from(f32::from_bits(b)));
    let sum = x + y;
    let y_part = sum - x;
    let x_part = sum - y_part;
    let error = (x - x_part) + (y - y_part);
    let rounded = sum as f32;
    if rounded.is_infinite() {
        return None;
    }
    if error != 0.0 || f64::from(rounded) != sum {
        *flags |= NX;
    }
    Some(rounded.to_bits())
}

/// The RNE binary32 quotient from the host: rounding the binary64 quotient of two singles again
/// to single is correct, as for sums. The single quotient `q` is exact when `q × b = a`, a
/// product binary64 holds exactly. Overflowed, zero and tiny results take the exact path.
fn f32_div_host(a: u32, b: u32, flags: &mut u8) -> Option<u32> {
    if f32_is_special(a) || f32_is_special(b) {
        return None;
    }
    let (x, y) = (f64::from(f32::from_bits(a)), f64::from(f32::from_bits(b)));
    let rounded = (x / y) as f32;
    let magnitude = rounded.abs();
    if !(magnitude > f32::MIN_POSITIVE && magnitude <= f32::MAX) {
        return None;
    }
    if f64::from(rounded) * y != x {
        *flags |= NX;
    }
    Some(rounded.to_bits())
}

/// The RNE binary32 square root from the host, for a positive finite operand: the binary64
/// root rounded again to single is correct (as for sums), the root is normal, and it is exact
/// when its square, exact in binary64, is the operand.
fn f32_sqrt_host(a: u32, flags: &mut u8) -> Option<u32> {
    if a == 0 || a >= 0x7f80_0000 {
        return None;
    }
    let x = f64::from(f32::from_bits(a));
    let root = x.sqrt() as f32;
    let root_wide = f64::from(root);
    if root_wide * root_wide != x {
        *flags |= NX;
    }
    Some(root.to_bits())
}

/// The RNE binary32 product from the host: the binary64 product of two singles is exact, so
/// rounding it once to single is correct. Overflowed, zero and tiny results take the exact path.
fn f32_mul_host(a: u32, b: u32, flags: &mut u8) -> Option<u32> {
    if f32_is_special(a) || f32_is_special(b) {
        return None;
    }
    let product = f64::from(f32::from_bits(a)) * f64::from(f32::from_bits(b));
    let rounded = product as f32;
    let magnitude = rounded.abs();
    if !(magnitude > f32::MIN_POSITIVE && magnitude <= f32::MAX) {
        return None;
    }
    if f64::from(rounded) != product {
        *flags |= NX;
    }
    Some(rounded.to_bits())
}

/// FADD.S.
pub fn f32_add(a: u32, b: u32, rm: u8, flags: &mut u8) -> u32 {
    if rm == RM_RNE
        && let Some(sum) = f32_add_host(a, b, flags)
    {
        return sum;
    }
    single(add(F32, a.into(), b.into(), rm, flags))
}

/// FSUB.S.
pub fn f32_sub(a: u32, b: u32, rm: u8, flags: &mut u8) -> u32 {
    f32_add(a, b ^ 0x8000_0000, rm, flags)
}

/// FMUL.S.
pub fn f32_mul(a: u32, b: u32, rm: u8, flags: &mut u8) -> u32 {
    if rm == RM_RNE
        && let Some(product) = f32_mul_host(a, b, flags)
    {
        return product;
    }
    single(mul(F32, a.into(), b.into(), rm, flags))
}

/// FDIV.S.
pub fn f32_div(a: u32, b: u32, rm: u8, flags: &mut u8) -> u32 {
    if rm == RM_RNE
        && let Some(result) = f32_div_host(a, b, flags)
    {
        return result;
    }
    single(div(F32, a.into(), b.into(), rm, flags))
}

/// FSQRT.S.
pub fn f32_sqrt(a: u32, rm: u8, flags: &mut u8) -> u32 {
    if rm == RM_RNE
        && let Some(result) = f32_sqrt_host(a, flags)
    {
        return result;
    }
    single(sqrt(F32, a.into(), rm, flags))
}

/// FMADD.S: `a * b + c` with one rounding. FMSUB.S, FNMSUB.S and FNMADD.S are this with the
/// sign of `c`, `a`, or both flipped.
pub fn f32_fma(a: u32, b: u32, c: u32, rm: u8, flags: &mut u8) -> u32 {
    single(fma(F32, a.into(), b.into(), c.into(), rm, flags))
}

/// FMIN.S: minimumNumber, -0 below +0; a NaN operand yields the other one.
pub fn f32_min(a: u32, b: u32, flags: &mut u8) -> u32 {
    single(min_max(F32, a.into(), b.into(), false, flags))
}

/// FMAX.S: maximumNumber, +0 above -0; a NaN operand yields the other one.
pub fn f32_max(a: u32, b: u32, flags: &mut u8) -> u32 {
    single(min_max(F32, a.into(), b.into(), true, flags))
}

/// FEQ.S: a quiet comparison, raising NV only for a signaling NaN.
pub fn f32_eq(a: u32, b: u32, flags: &mut u8) -> bool {
    compare(F32, a.into(), b.into(), false, flags) == Some(Ordering::Equal)
}

/// FLT.S: a signaling comparison, raising NV for any NaN.
pub fn f32_lt(a: u32, b: u32, flags: &mut u8) -> bool {
    compare(F32, a.into(), b.into(), true, flags) == Some(Ordering::Less)
}

/// FLE.S: a signaling comparison, raising NV for any NaN.
pub fn f32_le(a: u32, b: u32, flags: &mut u8) -> bool {
    matches!(
        compare(F32, a.into(), b.into(), true, flags),
        Some(Ordering::Less | Ordering::Equal)
    )
}

/// FCLASS.S: the one-hot class mask.
pub fn f32_class(a: u32) -> u64 {
    class(F32, a.into())
}

// The to_int results lie within the bounds passed in, so the casts below are exact.

/// FCVT.W.S, saturating.
pub fn f32_to_i32(a: u32, rm: u8, flags: &mut u8) -> i32 {
    to_int(F32, a.into(), rm, flags, i32::MIN.into(), i32::MAX.into()) as i32
}

/// FCVT.WU.S, saturating; negative values that round to 0 are valid.
pub fn f32_to_u32(a: u32, rm: u8, flags: &mut u8) -> u32 {
    to_int(F32, a.into(), rm, flags, 0, u32::MAX.into()) as u32
}

/// FCVT.L.S, saturating.
pub fn f32_to_i64(a: u32, rm: u8, flags: &mut u8) -> i64 {
    to_int(F32, a.into(), rm, flags, i64::MIN.into(), i64::MAX.into()) as i64
}

/// FCVT.LU.S, saturating; negative values that round to 0 are valid.
pub fn f32_to_u64(a: u32, rm: u8, flags: &mut u8) -> u64 {
    to_int(F32, a.into(), rm, flags, 0, u64::MAX.into()) as u64
}

/// FCVT.S.W.
pub fn f32_from_i32(v: i32, rm: u8, flags: &mut u8) -> u32 {
    single(from_int(F32, v < 0, v.unsigned_abs().into(), rm, flags))
}

/// FCVT.S.WU.
pub fn f32_from_u32(v: u32, rm: u8, flags: &mut u8) -> u32 {
    single(from_int(F32, false, v.into(), rm, flags))
}

/// FCVT.S.L.
pub fn f32_from_i64(v: i64, rm: u8, flags: &mut u8) -> u32 {
    single(from_int(F32, v < 0, v.unsigned_abs(), rm, flags))
}

/// FCVT.S.LU.
pub fn f32_from_u64(v: u64, rm: u8, flags: &mut u8) -> u32 {
    single(from_int(F32, false, v, rm, flags))
}

/// FADD.D.
pub fn f64_add(a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    if rm == RM_RNE
        && let Some(sum) = f64_add_host(a, b, flags)
    {
        return sum;
    }
    add(F64, a, b, rm, flags)
}

/// FSUB.D.
pub fn f64_sub(a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    f64_add(a, b ^ F64.sign_bit(), rm, flags)
}

/// FMUL.D.
pub fn f64_mul(a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    if rm == RM_RNE
        && let Some(product) = f64_mul_host(a, b, flags)
    {
        return product;
    }
    mul(F64, a, b, rm, flags)
}

/// FDIV.D.
pub fn f64_div(a: u64, b: u64, rm: u8, flags: &mut u8) -> u64 {
    if rm == RM_RNE
        && let Some(result) = f64_div_host(a, b, flags)
    {
        return result;
    }
    div(F64, a, b, rm, flags)
}

/// FSQRT.D.
pub fn f64_sqrt(a: u64, rm: u8, flags: &mut u8) -> u64 {
    if rm == RM_RNE
        && let Some(result) = f64_sqrt_host(a, flags)
    {
        return result;
    }
    sqrt(F64, a, rm, flags)
}

/// FMADD.D: `a * b + c` with one rounding. FMSUB.D, FNMSUB.D and FNMADD.D are this with the
/// sign of `c`, `a`, or both flipped.
pub fn f64_fma(a: u64, b: u64, c: u64, rm: u8, flags: &mut u8) -> u64 {
    fma(F64, a, b, c, rm, flags)
}

/// FMIN.D: minimumNumber, -0 below +0; a NaN operand yields the other one.
pub fn f64_min(a: u64, b: u64, flags: &mut u8) -> u64 {
    min_max(F64, a, b, false, flags)
}

/// FMAX.D: maximumNumber, +0 above -0; a NaN operand yields the other one.
pub fn f64_max(a: u64, b: u64, flags: &mut u8) -> u64 {
    min_max(F64, a, b, true, flags)
}

/// FEQ.D: a quiet comparison, raising NV only for a signaling NaN.
pub fn f64_eq(a: u64, b: u64, flags: &mut u8) -> bool {
    compare(F64, a, b, false, flags) == Some(Ordering::Equal)
}

/// FLT.D: a signaling comparison, raising NV for any NaN.
pub fn f64_lt(a: u64, b: u64, flags: &mut u8) -> bool {
    compare(F64, a, b, true, flags) == Some(Ordering::Less)
}

/// FLE.D: a signaling comparison, raising NV for any NaN.
pub fn f64_le(a: u64, b: u64, flags: &mut u8) -> bool {
    matches!(
        compare(F64, a, b, true, flags),
        Some(Ordering::Less | Ordering::Equal)
    )
}

/// FCLASS.D: the one-hot class mask.
pub fn f64_class(a: u64) -> u64 {
    class(F64, a)
}

/// FCVT.W.D, saturating.
pub fn f64_to_i32(a: u64, rm: u8, flags: &mut u8) -> i32 {
    to_int(F64, a, rm, flags, i32::MIN.into(), i32::MAX.into()) as i32
}

/// FCVT.WU.D, saturating; negative values that round to 0 are valid.
pub fn f64_to_u32(a: u64, rm: u8, flags: &mut u8) -> u32 {
    to_int(F64, a, rm, flags, 0, u32::MAX.into()) as u32
}

/// FCVT.L.D, saturating.
pub fn f64_to_i64(a: u64, rm: u8, flags: &mut u8) -> i64 {
    to_int(F64, a, rm, flags, i64::MIN.into(), i64::MAX.into()) as i64
}

/// FCVT.LU.D, saturating; negative values that round to 0 are valid.
pub fn f64_to_u64(a: u64, rm: u8, flags: &mut u8) -> u64 {
    to_int(F64, a, rm, flags, 0, u64::MAX.into()) as u64
}

/// FCVT.D.W.
pub fn f64_from_i32(v: i32, rm: u8, flags: &mut u8) -> u64 {
    from_int(F64, v < 0, v.unsigned_abs().into(), rm, flags)
}

/// FCVT.D.WU.
pub fn f64_from_u32(v: u32, rm: u8, flags: &mut u8) -> u64 {
    from_int(F64, false, v.into(), rm, flags)
}

/// FCVT.D.L.
pub fn f64_from_i64(v: i64, rm: u8, flags: &mut u8) -> u64 {
    from_int(F64, v < 0, v.unsigned_abs(), rm, flags)
}

/// FCVT.D.LU.
pub fn f64_from_u64(v: u64, rm: u8, flags: &mut u8) -> u64 {
    from_int(F64, false, v, rm, flags)
}

/// FCVT.D.S: exact, so only a signaling NaN raises a flag.
pub fn f32_to_f64(a: u32, flags: &mut u8) -> u64 {
    convert(F32, F64, a.into(), RM_RNE, flags)
}

/// FCVT.S.D.
pub fn f64_to_f32(a: u64, rm: u8, flags: &mut u8) -> u32 {
    single(convert(F64, F32, a, rm, flags))
}

#[cfg(test)]
mod tests {
    //! Hand-checked vectors; `tests/fp_oracle.rs` checks everything against qemu-riscv64.

    use super::*;

    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const TWO: u64 = 0x4000_0000_0000_0000;
    const NEG_ONE: u64 = 0xbff0_0000_0000_0000;
    const INF: u64 = 0x7ff0_0000_0000_0000;
    const QNAN: u64 = 0x7ff8_0000_0000_0000;
    const SNAN: u64 = 0x7ff0_0000_0000_0001;
    const NEG_ZERO: u64 = 0x8000_0000_0000_0000;
    const MAX: u64 = 0x7fef_ffff_ffff_ffff;
    /// 2^-53: half an ulp of 1.0.
    const HALF_ULP: u64 = 0x3ca0_0000_0000_0000;

    fn d(value: f64) -> u64 {
        value.to_bits()
    }

    /// Runs `op` and returns its result with the flags it raised.
    fn with_flags<T>(op: impl FnOnce(&mut u8) -> T) -> (T, u8) {
        let mut flags = 0;
        let result = op(&mut flags);
        (result, flags)
    }

    #[test]
    fn add_rounds_in_every_mode() {
        // 1 + 2^-53 is a tie between 1 and 1 + 2^-52.
        let up = ONE + 1;
        let cases = [
            (RM_RNE, ONE),
            (RM_RTZ, ONE),
            (RM_RDN, ONE),
            (RM_RUP, up),
            (RM_RMM, up),
        ];
        for (rm, expected) in cases {
            assert_eq!(
                with_flags(|f| f64_add(ONE, HALF_ULP, rm, f)),
                (expected, NX),
                "rm {rm}"
            );
        }
        assert_eq!(
            with_flags(|f| f64_add(d(0.1), d(0.2), RM_RNE, f)),
            (0x3fd3_3333_3333_3334, NX)
        );
        assert_eq!(with_flags(|f| f64_add(ONE, ONE, RM_RNE, f)), (TWO, 0));
    }

    #[test]
    fn exact_zero_sum_is_negative_only_when_rounding_down() {
        assert_eq!(with_flags(|f| f64_sub(ONE, ONE, RM_RNE, f)), (0, 0));
        assert_eq!(with_flags(|f| f64_sub(ONE, ONE, RM_RDN, f)), (NEG_ZERO, 0));
        assert_eq!(
            with_flags(|f| f64_add(0, NEG_ZERO, RM_RDN, f)),
            (NEG_ZERO, 0)
        );
        assert_eq!(
            with_flags(|f| f64_add(NEG_ZERO, NEG_ZERO, RM_RUP, f)),
            (NEG_ZERO, 0)
        );
    }

    #[test]
    fn overflow_depends_on_mode_and_sign() {
        assert_eq!(with_flags(|f| f64_mul(MAX, TWO, RM_RNE, f)), (INF, OF | NX));
        assert_eq!(with_flags(|f| f64_mul(MAX, TWO, RM_RTZ, f)), (MAX, OF | NX));
        let neg_max = MAX | NEG_ZERO;
        assert_eq!(
            with_flags(|f| f64_mul(neg_max, TWO, RM_RUP, f)),
            (neg_max, OF | NX)
        );
        assert_eq!(
            with_flags(|f| f64_mul(neg_max, TWO, RM_RDN, f)),
            (INF | NEG_ZERO, OF | NX)
        );
        assert_eq!(
            with_flags(|f| f32_add(0x7f7f_ffff, 0x7f7f_ffff, RM_RNE, f)),
            (0x7f80_0000, OF | NX)
        );
    }

    #[test]
    fn tininess_is_detected_after_rounding() {
        // (1 - 2^-25) × 2^-126 rounds to 2^-126 with 24 bits of precision and an unbounded
        // exponent, so it is not tiny: inexact, but no underflow.
        assert_eq!(
            with_flags(|f| f64_to_f32(0x380f_ffff_f000_0000, RM_RNE, f)),
            (0x0080_0000, NX)
        );
        // (1 - 2^-24) × 2^-126 needs 24 bits: tiny, and rounding it to a subnormal is inexact.
        assert_eq!(
            with_flags(|f| f64_to_f32(0x380f_ffff_e000_0000, RM_RNE, f)),
            (0x0080_0000, UF | NX)
        );
        // An exact subnormal result does not underflow.
        assert_eq!(with_flags(|f| f64_mul(1, ONE, RM_RNE, f)), (1, 0));
        assert_eq!(with_flags(|f| f64_mul(1, d(0.5), RM_RNE, f)), (0, UF | NX));
    }

    #[test]
    fn invalid_operations_give_the_canonical_nan() {
        let nan = F64.canonical_nan();
        assert_eq!(with_flags(|f| f64_sub(INF, INF, RM_RNE, f)), (nan, NV));
        assert_eq!(with_flags(|f| f64_mul(0, INF, RM_RNE, f)), (nan, NV));
        assert_eq!(with_flags(|f| f64_div(0, 0, RM_RNE, f)), (nan, NV));
        assert_eq!(with_flags(|f| f64_sqrt(NEG_ONE, RM_RNE, f)), (nan, NV));
        assert_eq!(with_flags(|f| f64_fma(0, INF, QNAN, RM_RNE, f)), (nan, NV));
        assert_eq!(
            with_flags(|f| f64_add(QNAN | 0x123, ONE, RM_RNE, f)),
            (nan, 0)
        );
        assert_eq!(with_flags(|f| f64_add(SNAN, ONE, RM_RNE, f)), (nan, NV));
        assert_eq!(with_flags(|f| f32_to_f64(0x7f80_0001, f)), (nan, NV));
        assert_eq!(with_flags(|f| f64_div(ONE, 0, RM_RNE, f)), (INF, DZ));
    }

    #[test]
    fn sqrt_and_fma() {
        assert_eq!(
            with_flags(|f| f64_sqrt(TWO, RM_RNE, f)),
            (0x3ff6_a09e_667f_3bcd, NX)
        );
        assert_eq!(with_flags(|f| f64_sqrt(d(0.25), RM_RNE, f)), (d(0.5), 0));
        assert_eq!(with_flags(|f| f64_sqrt(NEG_ZERO, RM_RNE, f)), (NEG_ZERO, 0));
        // (1 + 2^-52)^2 - (1 + 2^-51) = 2^-104 exactly; a rounded product would give 0.
        assert_eq!(
            with_flags(|f| f64_fma(ONE + 1, ONE + 1, NEG_ONE + 2, RM_RNE, f)),
            (0x3970_0000_0000_0000, 0)
        );
        // (1 + 2^-52)^2 - 1 = 2^-51 + 2^-104, a tie at 2^-51's precision.
        assert_eq!(
            with_flags(|f| f64_fma(ONE + 1, ONE + 1, NEG_ONE, RM_RNE, f)),
            (0x3cc0_0000_0000_0000, NX)
        );
        assert_eq!(
            with_flags(|f| f64_fma(ONE + 1, ONE + 1, NEG_ONE, RM_RUP, f)),
            (0x3cc0_0000_0000_0001, NX)
        );
    }

    #[test]
    fn min_max_are_minimum_number_and_maximum_number() {
        assert_eq!(with_flags(|f| f64_min(NEG_ZERO, 0, f)), (NEG_ZERO, 0));
        assert_eq!(with_flags(|f| f64_max(NEG_ZERO, 0, f)), (0, 0));
        assert_eq!(with_flags(|f| f64_min(QNAN, ONE, f)), (ONE, 0));
        assert_eq!(with_flags(|f| f64_max(ONE, SNAN, f)), (ONE, NV));
        assert_eq!(
            with_flags(|f| f64_min(SNAN, QNAN | NEG_ZERO, f)),
            (F64.canonical_nan(), NV)
        );
    }

    #[test]
    fn comparisons_signal_as_the_isa_says() {
        assert_eq!(with_flags(|f| f64_eq(0, NEG_ZERO, f)), (true, 0));
        assert_eq!(with_flags(|f| f64_eq(QNAN, QNAN, f)), (false, 0));
        assert_eq!(with_flags(|f| f64_eq(SNAN, ONE, f)), (false, NV));
        assert_eq!(with_flags(|f| f64_lt(QNAN, ONE, f)), (false, NV));
        assert_eq!(with_flags(|f| f64_lt(NEG_ZERO, 0, f)), (false, 0));
        assert_eq!(with_flags(|f| f64_le(NEG_ZERO, 0, f)), (true, 0));
        assert_eq!(with_flags(|f| f64_lt(NEG_ONE, NEG_ZERO, f)), (true, 0));
    }

    #[test]
    fn float_to_int_saturates() {
        assert_eq!(with_flags(|f| f64_to_i32(QNAN, RM_RTZ, f)), (i32::MAX, NV));
        assert_eq!(
            with_flags(|f| f64_to_i32(INF | NEG_ZERO, RM_RTZ, f)),
            (i32::MIN, NV)
        );
        assert_eq!(with_flags(|f| f64_to_u32(NEG_ONE, RM_RTZ, f)), (0, NV));
        assert_eq!(with_flags(|f| f64_to_u32(d(-0.3), RM_RTZ, f)), (0, NX));
        assert_eq!(with_flags(|f| f64_to_u32(d(-0.7), RM_RNE, f)), (0, NV));
        assert_eq!(
            with_flags(|f| f64_to_i64(d(9_223_372_036_854_775_808.0), RM_RNE, f)),
            (i64::MAX, NV)
        );
        assert_eq!(
            with_flags(|f| f64_to_i64(d(-9_223_372_036_854_775_808.0), RM_RNE, f)),
            (i64::MIN, 0)
        );
        assert_eq!(with_flags(|f| f64_to_u64(d(2.5), RM_RNE, f)), (2, NX));
        assert_eq!(with_flags(|f| f64_to_u64(d(2.5), RM_RMM, f)), (3, NX));
        assert_eq!(with_flags(|f| f64_to_i32(d(-2.5), RM_RDN, f)), (-3, NX));
        assert_eq!(
            with_flags(|f| f32_to_u64(0x5f80_0000, RM_RNE, f)),
            (u64::MAX, NV)
        );
    }

    #[test]
    fn int_to_float_rounds() {
        assert_eq!(
            with_flags(|f| f32_from_u64(u64::MAX, RM_RNE, f)),
            (0x5f80_0000, NX)
        );
        assert_eq!(
            with_flags(|f| f32_from_u64(u64::MAX, RM_RTZ, f)),
            (0x5f7f_ffff, NX)
        );
        assert_eq!(
            with_flags(|f| f64_from_i64(i64::MIN, RM_RNE, f)),
            (0xc3e0_0000_0000_0000, 0)
        );
        // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
        assert_eq!(
            with_flags(|f| f32_from_i32(0x100_0001, RM_RNE, f)),
            (0x4b80_0000, NX)
        );
        assert_eq!(with_flags(|f| f64_from_i32(0, RM_RDN, f)), (0, 0));
    }

    #[test]
    fn classify() {
        let cases = [
            (0xff80_0000, 1 << 0),
            (0xbf80_0000, 1 << 1),
            (0x8000_0001, 1 << 2),
            (0x8000_0000, 1 << 3),
            (0x0000_0000, 1 << 4),
            (0x007f_ffff, 1 << 5),
            (0x3f80_0000, 1 << 6),
            (0x7f80_0000, 1 << 7),
            (0xff80_0001, 1 << 8),
            (0x7fc0_0000, 1 << 9),
        ];
        for (bits, class) in cases {
            assert_eq!(f32_class(bits), class, "{bits:#x}");
        }
        assert_eq!(f64_class(SNAN), 1 << 8);
        assert_eq!(f64_class(MAX), 1 << 6);
    }

    #[test]
    fn nan_boxing() {
        assert_eq!(box_s(0x3f80_0000), 0xffff_ffff_3f80_0000);
        assert_eq!(unbox_s(0xffff_ffff_3f80_0000), 0x3f80_0000);
        assert_eq!(unbox_s(0xffff_fffe_3f80_0000), CANONICAL_NAN_S);
        assert_eq!(unbox_s(ONE), CANONICAL_NAN_S);
    }
}
