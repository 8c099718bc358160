/** Runs the real kubectl binary against a kubeconfig and collects what it printed. */
import { spawn } from 'node:child_process';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string;
  /** Impersonate this user (`--as`); the admin may, other users need RBAC for it. */
  readonly asUser?: string;
  /** Impersonated groups (`--as-group`), with asUser. */
  readonly asGroups?: readonly string[];
  /** Another kubeconfig, e.g. one from kubeconfigForToken(); the admin's by default. */
  readonly kubeconfig?: string;
  /** Throw when kubectl exits non-zero (by default the result carries the code). */
  readonly check?: boolean;
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code; 124 when it was killed for exceeding timeoutMs. */
  readonly code: number;
}

export interface KubectlContext {
  readonly binary: string;
  readonly kubeconfig: string;
  /** HOME and discovery cache of this control plane, so runs never touch the user's ~/.kube. */
  readonly env: NodeJS.ProcessEnv;
}

export function runKubectl(context: KubectlContext, args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const flags = [`--kubeconfig=${options.kubeconfig ?? context.kubeconfig}`];
  if (options.asUser !== undefined) flags.push(`--as=${options.asUser}`);
  for (const group of options.asGroups ?? []) flags.push(`--as-group=${group}`);
  const argv = [...flags, ...args];
  const env = { ...process.env, ...context.env };
  delete env['KUBECONFIG']; // --kubeconfig wins anyway; this keeps error messages unambiguous
  return new Promise((resolve, reject) => {
    const child = spawn(context.binary, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${context.binary}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = { stdout, stderr, code: timedOut ? 124 : (code ?? 1) };
      if (options.check && result.code !== 0) {
        reject(new Error(`kubectl ${args.join(' ')} exited ${result.code}${timedOut ? ' (timed out)' : ''}: ${stderr.trim() || stdout.trim()}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => undefined); // kubectl may exit before reading its input
    child.stdin.end(options.input ?? '');
  });
}
