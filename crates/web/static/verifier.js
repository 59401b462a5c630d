// Placeholder: replaced by the real verifier (crates/proof compiled to
// WebAssembly) when it is built. Same contract: resolves to
// {ok:true, signers, validators, height} or {ok:false, error}.
export async function verifyBundle(bundle, genesis) { return {ok:false, error:"verifier not built"}; }
