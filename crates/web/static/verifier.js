// The in-browser proof verifier: tracechain-proof compiled to WebAssembly
// (crates/verifier-wasm). It checks a bundle against the genesis the way
// `tracechain verify-proof` does: validator signatures, then every proof
// against the certified block's roots. Nothing here trusts the server's
// word; the page only shows what this code computed.

let exports;

// The module was built without wasm-bindgen's generator, so the few
// browser functions its dependencies may reach are provided here by hand:
// random bytes (hash-map seeds) and error reporting. Anything else is
// unexpected and fails loudly.
function imports(module, memory) {
  const text = (ptr, len) => new TextDecoder().decode(new Uint8Array(memory().buffer, ptr, len));
  const known = {
    getRandomValues: (ptr, len) => crypto.getRandomValues(new Uint8Array(memory().buffer, ptr, len)),
    __wbindgen_throw: (ptr, len) => { throw new Error(text(ptr, len)); },
  };
  const table = {};
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') continue;
    const match = Object.keys(known).find((key) => field.includes(key));
    table[name] ??= {};
    table[name][field] = match
      ? known[match]
      : () => { throw new Error(`verifier reached an unsupported import: ${field}`); };
  }
  return table;
}

async function load() {
  if (!exports) {
    const response = await fetch(new URL('./verifier.wasm', import.meta.url));
    if (!response.ok) throw new Error(`cannot load the verifier (${response.status})`);
    const module = await WebAssembly.compile(await response.arrayBuffer());
    let instance;
    instance = await WebAssembly.instantiate(module, imports(module, () => instance.exports.memory));
    exports = instance.exports;
  }
  return exports;
}

function put(wasm, bytes) {
  const ptr = wasm.alloc(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

/**
 * Verifies `bundle` (the parsed `proof` of a `?proof=true` answer, or a
 * `/v1/proofs/…` answer) against `genesis` (the parsed `/v1/genesis`).
 * Resolves to {ok: true, signers, validators, height, block, events, states}
 * or {ok: false, error} naming the check that failed.
 */
export async function verifyBundle(bundle, genesis) {
  try {
    const wasm = await load();
    const encoder = new TextEncoder();
    const parts = [
      encoder.encode(JSON.stringify(bundle)),
      encoder.encode(JSON.stringify(genesis)),
      crypto.getRandomValues(new Uint8Array(32)),
    ];
    const [b, g, s] = parts.map((bytes) => put(wasm, bytes));
    const packed = wasm.verify(b, parts[0].length, g, parts[1].length, s);
    const ptr = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    const answer = JSON.parse(new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, ptr, len)));
    wasm.dealloc(ptr, len);
    [b, g, s].forEach((p, i) => wasm.dealloc(p, parts[i].length));
    return answer;
  } catch (error) {
    return { ok: false, error: String(error && error.message ? error.message : error) };
  }
}
