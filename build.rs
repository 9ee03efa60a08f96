//! Compresses the letter fonts once, at build time, so no process pays for it at start.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for face in ["DejaVuSans-WinAnsi", "DejaVuSans-Bold-WinAnsi"] {
        let src = format!("assets/fonts/{face}.ttf");
        println!("cargo:rerun-if-changed={src}");
        let data = std::fs::read(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 10);
        std::fs::write(Path::new(&out).join(format!("{face}.ttf.zlib")), z).expect("write OUT_DIR");
    }
}
