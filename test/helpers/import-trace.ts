// Loaded with `node --import` by tests: records the URL of every module the process resolves
// into the file named by IPFS_KIT_TEST_IMPORT_LOG, to show what a command path loads.
import { register } from 'node:module'

register(new URL('./import-trace-hooks.js', import.meta.url))
