//! Differential test of the F and D arithmetic in `riscv64::fp` against qemu-riscv64.
//!
//! `guest/fp_oracle.c` runs every F and D computational and conversion instruction in every
//! static rounding mode over a deterministic operand set and prints each result with its
//! fflags. This test builds it with the riscv64 cross compiler, runs it under qemu-riscv64 and
//! recomputes every line with `fp`. A missing compiler or qemu fails the test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use ctr2wasm_emulator::riscv64::fp;

const CC: &str = "riscv64-linux-gnu-gcc";
const QEMU: &str = "qemu-riscv64";
const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/guest/fp_oracle.c");
/// The generator prints over a million cases; far fewer means it broke.
const MIN_CASES: usize = 1_000_000;
/// Mismatches printed in full before the summary.
const SHOWN_MISMATCHES: usize = 25;

const SIGN_S: u64 = 0x8000_0000;
const SIGN_D: u64 = 0x8000_0000_0000_0000;

/// One line of oracle output: `OP RM A B C RESULT FFLAGS`.
struct Case<'a> {
    op: &'a str,
    rm: u8,
    a: u64,
    b: u64,
    c: u64,
    result: u64,
    flags: u8,
}

fn parse(line: &str) -> Option<Case<'_>> {
    let mut fields = line.split_ascii_whitespace();
    let op = fields.next()?;
    let rm = fields.next()?.parse().ok()?;
    let mut hex = || u64::from_str_radix(fields.next()?, 16).ok();
    let (a, b, c, result) = (hex()?, hex()?, hex()?, hex()?);
    let flags = u8::try_from(hex()?).ok()?;
    Some(Case {
        op,
        rm,
        a,
        b,
        c,
        result,
        flags,
    })
}

/// Recomputes a case: the destination register's bits (singles as their 32-bit pattern,
/// integers as the sign-extended 64-bit register) and the fflags raised, or `None` for an
/// operation this test does not know.
fn evaluate(op: &str, rm: u8, a: u64, b: u64, c: u64) -> Option<(u64, u8)> {
    let mut fl = 0u8;
    let f = &mut fl;
    let (sa, sb, sc) = (a as u32, b as u32, c as u32);
    let (ns, nd) = (SIGN_S as u32, SIGN_D);
    let r: u64 = match op {
        "fadd.s" => fp::f32_add(sa, sb, rm, f).into(),
        "fsub.s" => fp::f32_sub(sa, sb, rm, f).into(),
        "fmul.s" => fp::f32_mul(sa, sb, rm, f).into(),
        "fdiv.s" => fp::f32_div(sa, sb, rm, f).into(),
        "fsqrt.s" => fp::f32_sqrt(sa, rm, f).into(),
        // The interpreter builds the negated forms by flipping operand signs (ISA: FMSUB is
        // a×b−c, FNMSUB −a×b+c, FNMADD −a×b−c).
        "fmadd.s" => fp::f32_fma(sa, sb, sc, rm, f).into(),
        "fmsub.s" => fp::f32_fma(sa, sb, sc ^ ns, rm, f).into(),
        "fnmsub.s" => fp::f32_fma(sa ^ ns, sb, sc, rm, f).into(),
        "fnmadd.s" => fp::f32_fma(sa ^ ns, sb, sc ^ ns, rm, f).into(),
        "fmin.s" => fp::f32_min(sa, sb, f).into(),
        "fmax.s" => fp::f32_max(sa, sb, f).into(),
        "feq.s" => fp::f32_eq(sa, sb, f).into(),
        "flt.s" => fp::f32_lt(sa, sb, f).into(),
        "fle.s" => fp::f32_le(sa, sb, f).into(),
        "fclass.s" => fp::f32_class(sa),
        "fcvt.w.s" => fp::f32_to_i32(sa, rm, f) as i64 as u64,
        "fcvt.wu.s" => fp::f32_to_u32(sa, rm, f) as i32 as i64 as u64,
        "fcvt.l.s" => fp::f32_to_i64(sa, rm, f) as u64,
        "fcvt.lu.s" => fp::f32_to_u64(sa, rm, f),
        "fcvt.s.w" => fp::f32_from_i32(a as i32, rm, f).into(),
        "fcvt.s.wu" => fp::f32_from_u32(a as u32, rm, f).into(),
        "fcvt.s.l" => fp::f32_from_i64(a as i64, rm, f).into(),
        "fcvt.s.lu" => fp::f32_from_u64(a, rm, f).into(),
        "fcvt.d.s" => fp::f32_to_f64(sa, f),
        "fcvt.s.d" => fp::f64_to_f32(a, rm, f).into(),
        "box.s" => fp::box_s(sa),
        "unbox-fclass.s" => fp::f32_class(fp::unbox_s(a)),
        "fadd.d" => fp::f64_add(a, b, rm, f),
        "fsub.d" => fp::f64_sub(a, b, rm, f),
        "fmul.d" => fp::f64_mul(a, b, rm, f),
        "fdiv.d" => fp::f64_div(a, b, rm, f),
        "fsqrt.d" => fp::f64_sqrt(a, rm, f),
        "fmadd.d" => fp::f64_fma(a, b, c, rm, f),
        "fmsub.d" => fp::f64_fma(a, b, c ^ nd, rm, f),
        "fnmsub.d" => fp::f64_fma(a ^ nd, b, c, rm, f),
        "fnmadd.d" => fp::f64_fma(a ^ nd, b, c ^ nd, rm, f),
        "fmin.d" => fp::f64_min(a, b, f),
        "fmax.d" => fp::f64_max(a, b, f),
        "feq.d" => fp::f64_eq(a, b, f).into(),
        "flt.d" => fp::f64_lt(a, b, f).into(),
        "fle.d" => fp::f64_le(a, b, f).into(),
        "fclass.d" => fp::f64_class(a),
        "fcvt.w.d" => fp::f64_to_i32(a, rm, f) as i64 as u64,
        "fcvt.wu.d" => fp::f64_to_u32(a, rm, f) as i32 as i64 as u64,
        "fcvt.l.d" => fp::f64_to_i64(a, rm, f) as u64,
        "fcvt.lu.d" => fp::f64_to_u64(a, rm, f),
        "fcvt.d.w" => fp::f64_from_i32(a as i32, rm, f),
        "fcvt.d.wu" => fp::f64_from_u32(a as u32, rm, f),
        "fcvt.d.l" => fp::f64_from_i64(a as i64, rm, f),
        "fcvt.d.lu" => fp::f64_from_u64(a, rm, f),
        _ => return None,
    };
    Some((r, fl))
}

fn flag_names(flags: u8) -> String {
    let names = [
        (fp::NV, "NV"),
        (fp::DZ, "DZ"),
        (fp::OF, "OF"),
        (fp::UF, "UF"),
        (fp::NX, "NX"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, name)| name)
        .collect();
    if set.is_empty() {
        "-".to_owned()
    } else {
        set.join("|")
    }
}

/// Builds the guest program and returns its output under qemu-riscv64.
fn oracle_output() -> String {
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fp_oracle");
    let cc = Command::new(CC)
        .args(["-O2", "-static", "-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(SOURCE)
        .output()
        .unwrap_or_else(|e| {
            panic!("fp_oracle: cannot run {CC} ({e}); install gcc-riscv64-linux-gnu and libc6-dev-riscv64-cross")
        });
    assert!(
        cc.status.success(),
        "fp_oracle: {CC} failed on {SOURCE}:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(QEMU)
        .arg(&binary)
        .output()
        .unwrap_or_else(|e| panic!("fp_oracle: cannot run {QEMU} ({e}); install qemu-user"));
    assert!(
        run.status.success(),
        "fp_oracle: {QEMU} {} exited with {}:\n{}",
        binary.display(),
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).expect("fp_oracle prints ASCII only")
}

#[test]
fn fp_matches_qemu() {
    let output = oracle_output();
    let mut cases = 0usize;
    let mut mismatches = 0usize;
    let mut per_op: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut report = String::new();
    for line in output.lines() {
        let case = parse(line).unwrap_or_else(|| panic!("fp_oracle: unparsable line {line:?}"));
        let (result, flags) = evaluate(case.op, case.rm, case.a, case.b, case.c)
            .unwrap_or_else(|| panic!("fp_oracle: unknown operation in line {line:?}"));
        cases += 1;
        let counts = per_op.entry(case.op).or_default();
        counts.0 += 1;
        if (result, flags) != (case.result, case.flags) {
            mismatches += 1;
            counts.1 += 1;
            if mismatches <= SHOWN_MISMATCHES {
                report += &format!(
                    "{} rm={} a={:#x} b={:#x} c={:#x}: qemu {:#x} {}, fp {:#x} {}\n",
                    case.op,
                    case.rm,
                    case.a,
                    case.b,
                    case.c,
                    case.result,
                    flag_names(case.flags),
                    result,
                    flag_names(flags)
                );
            }
        }
    }
    assert!(
        cases >= MIN_CASES,
        "fp_oracle printed only {cases} cases, expected at least {MIN_CASES}"
    );
    if mismatches > 0 {
        for (op, (total, bad)) in &per_op {
            if *bad > 0 {
                report += &format!("{op}: {bad} of {total} differ\n");
            }
        }
        panic!("{mismatches} of {cases} cases differ from qemu-riscv64:\n{report}");
    }
}
