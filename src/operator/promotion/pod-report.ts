/** What one ready serving pod says about the model, as the promotion planner and status read it. */

export type VersionStateName = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END' | 'UNKNOWN';

export interface ReportedVersion {
  readonly version: number;
  readonly state: VersionStateName;
  /** The load error, when the server reports one (state END after a failed load). */
  readonly error?: string;
  /** Why the version's load waits (state START: the server's memory budget, a label naming the old version). */
  readonly waiting?: string;
}

export type PodReport =
  /** The server answered and serves the model. */
  | {
    readonly pod: string;
    readonly kind: 'serving';
    readonly versions: readonly ReportedVersion[];
    readonly labels: ReadonlyMap<string, number>;
    /** The model's routing (weighted labels, shadow) as the server reports it, if any. */
    readonly routing?: unknown;
  }
  /** The server answered but has no such model (it has not received a config naming it yet). */
  | { readonly pod: string; readonly kind: 'model-missing' }
  /** No answer (network, timeout, server error). */
  | { readonly pod: string; readonly kind: 'unreachable'; readonly error: string };

export function versionOf(report: PodReport, version: number): ReportedVersion | undefined {
  return report.kind === 'serving' ? report.versions.find((v) => v.version === version) : undefined;
}
