/**
 * LeaseStore over client-node's CoordinationV1Api. Two client-node 1.4 quirks live here:
 *
 * - Reading: V1LeaseSpec types renewTime/acquireTime as V1MicroTime (a Date), but the generated
 *   deserializer does not know that type and leaves the apiserver's string
 *   ("2026-01-01T00:00:00.123456Z") in place. Parse both.
 * - Writing: a plain Date serialises with milliseconds ("...00.123Z"), which the apiserver rejects
 *   for a MicroTime field (Go parses it with exactly six fraction digits). V1MicroTime's
 *   toISOString writes six digits, so every time we send is a V1MicroTime.
 *
 * Errors are ApiException with the HTTP status in `code`: 404 on read means no Lease; 409 on write
 * (AlreadyExists on create, Conflict on a stale resourceVersion) means another writer won.
 */
import { type CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { httpStatusOf } from './errors.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from './leader-election.js';

export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** e.g. kubeLeaseStore(kc.makeApiClient(CoordinationV1Api), 'tfmodel-system', 'tfmodel-operator'). */
export function kubeLeaseStore(api: LeaseApi, namespace: string, name: string): LeaseStore {
  // Replace is a PUT of the whole object: start from what we last read so its labels,
  // annotations and other spec fields survive.
  let lastRead: V1Lease | undefined;
  return {
    async get() {
      try {
        lastRead = await api.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
      return toRecord(lastRead);
    },
    async create(record) {
      const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: toSpec(record, undefined) };
      return toRecord(await conflictsAsLeaseConflict(api.createNamespacedLease({ namespace, body })));
    },
    async replace(record) {
      const base = lastRead?.metadata?.name === name ? lastRead : undefined;
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...base?.metadata, name, namespace, resourceVersion: record.resourceVersion },
        spec: toSpec(record, base),
      };
      return toRecord(await conflictsAsLeaseConflict(api.replaceNamespacedLease({ name, namespace, body })));
    },
  };
}

/** A Date (or V1MicroTime) from whatever client-node handed us: a string, a Date, or nothing. */
export function microTimeToDate(value: unknown): Date | undefined {
  if (value instanceof Date) return new Date(value.getTime());
  if (typeof value === 'string' && value !== '') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return undefined;
}

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: microTimeToDate(spec.acquireTime),
    renewTime: microTimeToDate(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

function toSpec(record: LeaseRecord, base: V1Lease | undefined): V1Lease['spec'] {
  return {
    ...base?.spec,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime && new V1MicroTime(record.acquireTime.getTime()),
    renewTime: record.renewTime && new V1MicroTime(record.renewTime.getTime()),
    leaseTransitions: record.leaseTransitions,
  };
}

async function conflictsAsLeaseConflict<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (httpStatusOf(error) === 409) throw new LeaseConflictError();
    throw error;
  }
}
