//! A wasm32-wasip1 program that shows what `run-wasi.mjs` hands a guest: it prints its
//! arguments, its environment, a file of the directory preopened at /data, then what it
//! reads from stdin; writes /data/out.txt and a line to stderr; and exits with status 3.
//! With the single argument `abort`, it traps instead.

use std::io::Read;
use std::{env, fs, process};

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if args == ["abort"] {
        process::abort();
    }
    println!("args: {args:?}");
    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    for (key, value) in vars {
        println!("env: {key}={value}");
    }
    match fs::read_to_string("/data/in.txt") {
        Ok(text) => print!("/data/in.txt: {text}"),
        Err(e) => println!("/data/in.txt: {e}"),
    }
    let mut input = String::new();
    match std::io::stdin().read_to_string(&mut input) {
        Ok(_) => println!("stdin: {input:?}"),
        Err(e) => println!("stdin: {e}"),
    }
    if let Err(e) = fs::write("/data/out.txt", "written by the guest\n") {
        println!("/data/out.txt: {e}");
    }
    eprintln!("probe: to stderr");
    process::exit(3);
}
