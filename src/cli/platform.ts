/**
 * Compatibility for code written against the pre-issue-13 layout (to be removed after the merge):
 * how commands get the simulated platform now lives in src/app/platform.ts.
 */
export {createdMessage, loadPlatform as cliPlatform, mutatePlatform as cliWithPlatform, type Notice} from '../app/platform.js'
