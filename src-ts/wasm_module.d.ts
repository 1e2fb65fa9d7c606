// A static `.wasm` import (workerd, bundlers) evaluates to the compiled module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
