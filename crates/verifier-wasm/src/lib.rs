//! `tracechain-proof`'s verifier as a WebAssembly module with a plain C
//! ABI, so the browser needs no generated bindings: JavaScript copies the
//! bundle, the genesis and 32 random bytes into memory from `alloc`, calls
//! `verify`, and reads back a JSON answer.

/// Memory for the caller to fill; free it with `dealloc`.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// Frees what `alloc` (or `verify`'s answer) handed out.
///
/// # Safety
/// `ptr` and `len` must come from `alloc(len)` or from `verify`'s answer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back exactly what was allocated here.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// Verifies a bundle (JSON) against a genesis (JSON) with a 32-byte seed;
/// answers `{"ok":true,…}` or `{"ok":false,"error":"…"}` as JSON, its
/// address in the high 32 bits and its length in the low 32 bits.
///
/// # Safety
/// Each pointer must address the given number of readable bytes (the seed
/// 32 of them).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn verify(
    bundle: *const u8,
    bundle_len: usize,
    genesis: *const u8,
    genesis_len: usize,
    seed: *const u8,
) -> u64 {
    // SAFETY: the caller guarantees the lengths (see above).
    let (bundle, genesis, seed) = unsafe {
        (
            std::slice::from_raw_parts(bundle, bundle_len),
            std::slice::from_raw_parts(genesis, genesis_len),
            std::slice::from_raw_parts(seed, 32),
        )
    };
    let answer = answer(bundle, genesis, seed);
    let mut bytes = answer.into_bytes().into_boxed_slice();
    let (ptr, len) = (bytes.as_mut_ptr(), bytes.len());
    std::mem::forget(bytes);
    ((ptr as u64) << 32) | len as u64
}

/// The verification answer as JSON text.
pub fn answer(bundle: &[u8], genesis: &[u8], seed: &[u8]) -> String {
    let mut fixed = [0u8; 32];
    fixed.copy_from_slice(&seed[..32.min(seed.len())]);
    let result = match (std::str::from_utf8(bundle), std::str::from_utf8(genesis)) {
        (Ok(bundle), Ok(genesis)) => {
            tracechain_proof::verify_json(bundle, genesis, fixed).map_err(|e| e.to_string())
        }
        _ => Err("the bundle or genesis is not UTF-8 text".to_string()),
    };
    let value = match result {
        Ok(verified) => {
            let mut value = serde_json::to_value(&verified).unwrap_or_default();
            value["ok"] = serde_json::Value::Bool(true);
            value
        }
        Err(error) => serde_json::json!({"ok": false, "error": error}),
    };
    value.to_string()
}
