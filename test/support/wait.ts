// Waiting on a condition with a timeout, for tests and benchmarks that drive a stack from outside:
// the product's own helper, reached through the support module (the import rules keep end-to-end
// tests off control-plane/ files).
export { waitFor } from '../../runtime/src/wait'
