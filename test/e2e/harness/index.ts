/** The end-to-end test harness: a real control plane on loopback, fake kwok nodes, kubectl. */
export { controlPlaneBinaries, type ControlPlaneBinaries } from './binaries.js';
export { startControlPlane, type ControlPlane, type ControlPlaneOptions, type ProcessInfo } from './control-plane.js';
export type { KubectlOptions, KubectlResult } from './kubectl.js';
export { createFakeNodes, fakeNode, gpuNodeSpec, KWOK_TAINT, KWOK_TOLERATION, type FakeNodeSpec } from './kwok-nodes.js';
export { listeningAddresses, poll, processGroupAlive } from './processes.js';
