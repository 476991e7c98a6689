// Runs a WASI (preview1) module under node, the way wasmtime runs it from a shell:
//
//   node run-wasi.mjs [--env K=V]... [--dir HOST::GUEST | --dir DIR]... [--] MODULE.wasm [ARGS]...
//
// The guest gets exactly the --env variables, argv [MODULE.wasm, ARGS...], each --dir as a
// preopened directory (HOST mounted at GUEST; a bare DIR at the same path) and this process's
// stdin, stdout and stderr as fds 0, 1 and 2. The directories are served by host-dirs.mjs,
// which resolves every path beneath its descriptor without races, not by node's WASI (which
// reopens joined host paths, so a directory swapped for a symlink would lead outside). Its exit code becomes ours; a trap prints
// "run-wasi: ..." on stderr and exits 134, as wasmtime does. Usage errors exit 2.
//
// node 20 needs no flag for node:wasi, but loading it prints an ExperimentalWarning on stderr;
// that one warning is dropped so stderr holds only what the guest writes.

import { readFile } from 'node:fs/promises';

import { HostDirs } from './host-dirs.mjs';

const usage =
  'usage: node run-wasi.mjs [--env K=V]... [--dir HOST::GUEST]... [--] MODULE.wasm [ARGS]...';

function fail(message, code) {
  process.stderr.write(`run-wasi: ${message}\n`);
  process.exit(code);
}

const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && String(warning).startsWith('WASI ')) {
    return;
  }
  return emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const env = {};
const preopens = {};
const argv = process.argv.slice(2);
let i = 0;
for (; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--') {
    i++;
    break;
  }
  if (arg === '--env' || arg === '--dir') {
    const value = argv[++i];
    if (value === undefined) {
      fail(`${arg} needs a value\n${usage}`, 2);
    }
    if (arg === '--env') {
      const eq = value.indexOf('=');
      if (eq <= 0) {
        fail(`--env ${value}: expected K=V`, 2);
      }
      env[value.slice(0, eq)] = value.slice(eq + 1);
    } else {
      const sep = value.indexOf('::');
      const [host, guest] = sep < 0 ? [value, value] : [value.slice(0, sep), value.slice(sep + 2)];
      if (host === '' || guest === '') {
        fail(`--dir ${value}: expected HOST::GUEST or DIR`, 2);
      }
      preopens[guest] = host;
    }
  } else if (arg.startsWith('--')) {
    fail(`unknown option ${arg}\n${usage}`, 2);
  } else {
    break;
  }
}
const modulePath = argv[i];
if (modulePath === undefined) {
  fail(`no module given\n${usage}`, 2);
}
const args = [modulePath, ...argv.slice(i + 1)];

let module;
try {
  module = await WebAssembly.compile(await readFile(modulePath));
} catch (e) {
  fail(`${modulePath}: ${e.message}`, 2);
}
let dirs;
try {
  dirs = new HostDirs(preopens);
} catch (e) {
  fail(`--dir ${e.path ?? ''}: ${e.message}`, 2);
}
const wasi = new WASI({ version: 'preview1', args, env, preopens: {}, returnOnExit: true });
let code;
try {
  const instance = await WebAssembly.instantiate(module, dirs.wrap(wasi.getImportObject()));
  dirs.memory = instance.exports.memory;
  code = wasi.start(instance);
} catch (e) {
  fail(`${modulePath} trapped: ${e.stack ?? e}`, 134);
}
process.exit(code);
