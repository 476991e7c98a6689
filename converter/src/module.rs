//! Module assembly: the runtime module plus a bundle makes the output module.
//!
//! The runtime exports two functions whose bodies are placeholders
//! (`wasi-shim/src/bundle/embedded.rs`). Assembly appends the bundle as one passive data
//! segment, replaces those two bodies (a constant length, and a `memory.init` from the new
//! segment), bumps the data count, and adds a `ctr2wasm.bundle` custom section with the image
//! config. Every other section and function body is copied byte for byte: nothing of the
//! runtime is decoded and re-encoded, so assembly is a copy, and cannot change behaviour.
//! [`assemble_to`] streams the bundle into the output from the writer's chunk file, so
//! converting holds neither the bundle nor the module in memory.
//! (walrus would rebuild the whole module from its IR; it is also only maintained now.)

use anyhow::{Context, Result, bail};
use wasm_encoder::{
    CodeSection, CustomSection, DataCountSection, Function, Instruction, RawSection, Section,
};
use wasmparser::{Parser, Payload, TypeRef, ValType};

/// The custom section carrying the bundle's config (for tools; the runtime reads the bundle).
pub const CONFIG_SECTION: &str = "ctr2wasm.bundle";
const LEN_EXPORT: &str = "ctr2wasm_bundle_len";
const READ_EXPORT: &str = "ctr2wasm_bundle_read";

const DATA_COUNT_ID: u8 = 12;
const CODE_ID: u8 = 10;
const DATA_ID: u8 = 11;

/// What assembly needs to know about the runtime module before writing anything.
#[derive(Default)]
struct Survey {
    imported_funcs: u32,
    /// Type index of each defined function.
    func_types: Vec<u32>,
    /// (params, results) of each type.
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    len_func: Option<u32>,
    read_func: Option<u32>,
    data_segments: u32,
    has_data_count: bool,
    has_bundle: bool,
}

fn survey(runtime: &[u8]) -> Result<Survey> {
    let mut s = Survey::default();
    for payload in Parser::new(0).parse_all(runtime) {
        match payload? {
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    let t = t?;
                    s.types.push((t.params().to_vec(), t.results().to_vec()));
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if matches!(imp?.ty, TypeRef::Func(_)) {
                        s.imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    s.func_types.push(t?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    match e.name {
                        LEN_EXPORT => s.len_func = Some(e.index),
                        READ_EXPORT => s.read_func = Some(e.index),
                        _ => {}
                    }
                }
            }
            Payload::DataCountSection { .. } => s.has_data_count = true,
            Payload::DataSection(r) => s.data_segments = r.count(),
            Payload::CustomSection(c) if c.name() == CONFIG_SECTION => s.has_bundle = true,
            _ => {}
        }
    }
    Ok(s)
}

impl Survey {
    /// Checks that export `name` is a defined function of type `params -> results`, and
    /// returns its index among defined functions.
    fn placeholder(
        &self,
        name: &str,
        index: Option<u32>,
        params: &[ValType],
        results: &[ValType],
    ) -> Result<u32> {
        let index = index.with_context(|| format!("the runtime module exports no {name}"))?;
        let defined = index
            .checked_sub(self.imported_funcs)
            .with_context(|| format!("the runtime module's {name} is an import"))?;
        let ty = self
            .func_types
            .get(defined as usize)
            .and_then(|&t| self.types.get(t as usize))
            .with_context(|| format!("the runtime module's {name} has no type"))?;
        if ty.0 != params || ty.1 != results {
            bail!("the runtime module's {name} has type {ty:?}, not {params:?} -> {results:?}");
        }
        Ok(defined)
    }
}

/// The bundle as the writer leaves it for streaming: the bytes that go before the chunks,
/// then the chunks, in a file (written from its start).
pub struct BundleParts<'a> {
    pub head: &'a [u8],
    pub chunks: &'a std::fs::File,
    pub chunks_len: u64,
}

/// A piece of the output module: bytes, or the place of the bundle's bytes.
enum Part {
    Bytes(Vec<u8>),
    Bundle,
}

/// Builds the output module from the runtime module, a bundle and its encoded config.
pub fn assemble(runtime: &[u8], bundle: &[u8], config: &[u8]) -> Result<Vec<u8>> {
    let bundle_len = bundle_len(bundle.len() as u64)?;
    let parts = build(runtime, bundle_len, bundle_len, config)?;
    let mut bytes = Vec::new();
    for part in parts {
        match part {
            Part::Bytes(b) => bytes.extend_from_slice(&b),
            Part::Bundle => bytes.extend_from_slice(bundle),
        }
    }
    wasmparser::Validator::new()
        .validate_all(&bytes)
        .context("the assembled module does not validate")?;
    Ok(bytes)
}

/// Writes the output module to `out`, the bundle streamed from its parts (memory does not
/// depend on the bundle's size): the module is first validated with an empty segment in
/// the bundle's place, then written. Returns the module's length.
pub fn assemble_to(
    runtime: &[u8],
    bundle: BundleParts<'_>,
    config: &[u8],
    out: &mut dyn std::io::Write,
) -> Result<u64> {
    use std::io::{Read, Seek};
    let len = (bundle.head.len() as u64)
        .checked_add(bundle.chunks_len)
        .context("the bundle is larger than a data segment can be (4 GiB)")?;
    let bundle_len = self::bundle_len(len)?;
    let mut probe = Vec::new();
    for part in build(runtime, bundle_len, 0, config)? {
        if let Part::Bytes(b) = part {
            probe.extend_from_slice(&b);
        }
    }
    wasmparser::Validator::new()
        .validate_all(&probe)
        .context("the assembled module does not validate")?;
    drop(probe);
    let mut written = 0u64;
    for part in build(runtime, bundle_len, bundle_len, config)? {
        match part {
            Part::Bytes(b) => {
                out.write_all(&b)?;
                written += b.len() as u64;
            }
            Part::Bundle => {
                out.write_all(bundle.head)?;
                let mut chunks = bundle.chunks;
                chunks.rewind().context("reading the bundle's chunks")?;
                let copied = std::io::copy(&mut chunks.take(bundle.chunks_len), out)
                    .context("copying the bundle's chunks")?;
                if copied != bundle.chunks_len {
                    bail!(
                        "internal error: {copied} bytes of chunks, the bundle says {}",
                        bundle.chunks_len
                    );
                }
                written += len;
            }
        }
    }
    Ok(written)
}

fn bundle_len(len: u64) -> Result<u32> {
    u32::try_from(len)
        .ok()
        .filter(|&n| n < u32::MAX)
        .context("the bundle is larger than a data segment can be (4 GiB)")
}

/// Unsigned LEB128, as the binary format writes lengths and counts.
fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The data section: the runtime's segments (raw bytes), then a passive segment of
/// `segment_len` bytes whose contents are the [`Part::Bundle`] that follows.
fn data_section(parts: &mut Vec<Part>, cur: &mut Vec<u8>, raw: &[&[u8]], segment_len: u32) {
    let mut content = Vec::new();
    leb(&mut content, raw.len() as u64 + 1);
    for seg in raw {
        content.extend_from_slice(seg);
    }
    content.push(0x01); // a passive segment
    leb(&mut content, u64::from(segment_len));
    cur.push(DATA_ID);
    leb(cur, content.len() as u64 + u64::from(segment_len));
    cur.extend_from_slice(&content);
    parts.push(Part::Bytes(std::mem::take(cur)));
    if segment_len > 0 {
        parts.push(Part::Bundle);
    }
}

/// The output module in parts, for a bundle of `bundle_len` bytes in a data segment of
/// `segment_len` bytes (equal, but for validation with an empty one).
fn build(runtime: &[u8], bundle_len: u32, segment_len: u32, config: &[u8]) -> Result<Vec<Part>> {
    let s = survey(runtime).context("reading the runtime module")?;
    if s.has_bundle {
        bail!("the runtime module already holds a bundle");
    }
    let len_fn = s.placeholder(LEN_EXPORT, s.len_func, &[], &[ValType::I32])?;
    let read_fn = s.placeholder(READ_EXPORT, s.read_func, &[ValType::I32; 3], &[])?;
    let segment = s.data_segments;

    let mut len_body = Function::new([]);
    len_body.instruction(&Instruction::I32Const(bundle_len as i32));
    len_body.instruction(&Instruction::End);
    let mut read_body = Function::new([]);
    for arg in 0..3 {
        read_body.instruction(&Instruction::LocalGet(arg));
    }
    read_body.instruction(&Instruction::MemoryInit {
        mem: 0,
        data_index: segment,
    });
    read_body.instruction(&Instruction::End);

    let mut parts = Vec::new();
    let mut cur = wasm_encoder::Module::new().finish();
    let mut code: Option<CodeSection> = None;
    let mut defined = 0u32;
    let mut wrote_data = false;
    for payload in Parser::new(0).parse_all(runtime) {
        let payload = payload?;
        match &payload {
            Payload::Version { .. } | Payload::End(_) => continue,
            Payload::DataCountSection { count, .. } => {
                DataCountSection { count: count + 1 }.append_to(&mut cur);
            }
            Payload::CodeSectionStart { .. } => {
                if !s.has_data_count {
                    // memory.init needs a data count section, which goes just before code.
                    DataCountSection {
                        count: s.data_segments + 1,
                    }
                    .append_to(&mut cur);
                }
                code = Some(CodeSection::new());
            }
            Payload::CodeSectionEntry(body) => {
                let c = code
                    .as_mut()
                    .context("code entries before the code section")?;
                match defined {
                    i if i == len_fn => c.function(&len_body),
                    i if i == read_fn => c.function(&read_body),
                    _ => c.raw(&runtime[usize_range(body.range())]),
                };
                defined += 1;
                if defined as usize == s.func_types.len() {
                    code.take()
                        .context("two code sections")?
                        .append_to(&mut cur);
                }
            }
            Payload::DataSection(r) => {
                let mut raw = Vec::new();
                for seg in r.clone() {
                    raw.push(&runtime[usize_range(seg?.range)]);
                }
                data_section(&mut parts, &mut cur, &raw, segment_len);
                wrote_data = true;
            }
            _ => {
                let (id, range) = payload
                    .as_section()
                    .context("an unexpected part of the runtime module")?;
                if matches!(id, CODE_ID | DATA_ID | DATA_COUNT_ID) {
                    bail!("unexpected section {id} in the runtime module");
                }
                if id == 0 {
                    // A custom section: re-emitted as is (as_section covers its name too).
                    let Payload::CustomSection(c) = &payload else {
                        unreachable!("section id 0 is custom")
                    };
                    CustomSection {
                        name: c.name().into(),
                        data: c.data().into(),
                    }
                    .append_to(&mut cur);
                } else {
                    RawSection {
                        id,
                        data: &runtime[usize_range(range)],
                    }
                    .append_to(&mut cur);
                }
            }
        }
    }
    if code.is_some() {
        bail!("the runtime module's code section is incomplete");
    }
    if !wrote_data {
        data_section(&mut parts, &mut cur, &[], segment_len);
    }
    CustomSection {
        name: CONFIG_SECTION.into(),
        data: config.into(),
    }
    .append_to(&mut cur);
    parts.push(Part::Bytes(cur));
    Ok(parts)
}

/// wasmparser's offsets are u64; a module this process holds in memory fits in usize.
fn usize_range(r: std::ops::Range<u64>) -> std::ops::Range<usize> {
    r.start as usize..r.end as usize
}

/// The image of the assembled `module` behind another `runtime` (the JIT build, for
/// `ctr2wasm run`): the same bundle and config, assembled again. The runtime keeps its debug
/// sections only if `module`'s did (`convert --keep-debug-info`).
pub fn rebase(runtime: &[u8], module: &[u8]) -> Result<Vec<u8>> {
    let bundle = bundle_of(module)?;
    let mut config = None;
    let mut has_debug = false;
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::CustomSection(c) = payload? {
            if c.name() == CONFIG_SECTION {
                config = Some(c.data());
            }
            has_debug |= c.name().starts_with(DEBUG_SECTION_PREFIX);
        }
    }
    let config = config.context("not a ctr2wasm module: it has no config section")?;
    if has_debug {
        assemble(runtime, bundle, config)
    } else {
        assemble(&strip_debug(runtime)?, bundle, config)
    }
}

/// What the custom sections holding DWARF are named (`.debug_info`, `.debug_line`, ...):
/// wasm-ld writes them for the runtime's build, and nothing running the module reads them.
const DEBUG_SECTION_PREFIX: &str = ".debug";

/// `runtime` without its DWARF sections (most of its size). The `name` section stays, so a
/// trap's backtrace still names functions; every other section is copied byte for byte.
pub fn strip_debug(runtime: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(runtime) {
        let payload = payload.context("reading the runtime module")?;
        if let Payload::CustomSection(c) = &payload
            && c.name().starts_with(DEBUG_SECTION_PREFIX)
        {
            continue;
        }
        // Code entries are inside the code section's range; version and end are not sections.
        if let Some((id, range)) = payload.as_section() {
            out.section(&RawSection {
                id,
                data: &runtime[usize_range(range)],
            });
        }
    }
    Ok(out.finish())
}

/// The bundle inside an assembled module: its passive data segment that starts with the
/// bundle magic.
pub fn bundle_of(module: &[u8]) -> Result<&[u8]> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::DataSection(r) = payload? {
            for seg in r {
                let seg = seg?;
                if matches!(seg.kind, wasmparser::DataKind::Passive)
                    && seg.data.starts_with(&wasi_shim::bundle::format::MAGIC)
                {
                    return Ok(seg.data);
                }
            }
        }
    }
    bail!("not a ctr2wasm module: it holds no image bundle")
}
