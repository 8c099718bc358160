/**
 * Spans -> an XSpace as TensorFlow's profiler writes it for a host: one plane "/host:CPU", one
 * line ("thread") per lane of non-overlapping spans of a kind, event and stat metadata by id. This
 * is what TensorBoard's profile plugin turns into its trace viewer.
 */
import { create } from '@bufbuild/protobuf';
import {
  type XEvent,
  XEventSchema,
  type XLine,
  XLineSchema,
  XPlaneSchema,
  type XSpace,
  XSpaceSchema,
  type XStat,
  XStatSchema,
} from '../../gen/tsl/profiler/protobuf/xplane_pb.js';
import type { Span, SpanKind } from './trace-recorder.js';

/** TensorFlow's kHostThreadsPlaneName. */
export const HOST_PLANE_NAME = '/host:CPU';

const LINE_NAMES: Record<SpanKind, string> = {
  request: 'Requests',
  runtime: 'Model runs',
  batch_queue: 'Batching queue',
};

export function buildXSpace(spans: readonly Span[], hostname: string, warnings: string[] = []): XSpace {
  const plane = create(XPlaneSchema, { id: 0n, name: HOST_PLANE_NAME });
  const eventIds = new Map<string, bigint>();
  const statIds = new Map<string, bigint>();
  const idOf = (ids: Map<string, bigint>, name: string, add: (id: bigint) => void): bigint => {
    let id = ids.get(name);
    if (id === undefined) {
      id = BigInt(ids.size + 1);
      ids.set(name, id);
      add(id);
    }
    return id;
  };
  const eventId = (name: string) => idOf(eventIds, name, (id) => (plane.eventMetadata[id.toString()] = { $typeName: 'tensorflow.profiler.XEventMetadata', id, name, displayName: '', metadata: new Uint8Array(), stats: [], childId: [] }));
  const statId = (name: string) => idOf(statIds, name, (id) => (plane.statMetadata[id.toString()] = { $typeName: 'tensorflow.profiler.XStatMetadata', id, name, description: '' }));

  const lines: XLine[] = [];
  for (const kind of Object.keys(LINE_NAMES) as SpanKind[]) {
    const lanes = partitionIntoLanes(spans.filter((s) => s.kind === kind));
    lanes.forEach((lane, index) => {
      const start = lane[0]!.startNs;
      const end = lane.reduce((max, s) => (s.startNs + s.durationNs > max ? s.startNs + s.durationNs : max), start);
      const id = BigInt(lines.length + 1);
      const name = lanes.length > 1 ? `${LINE_NAMES[kind]} #${index}` : LINE_NAMES[kind];
      lines.push(
        create(XLineSchema, {
          id,
          displayId: id,
          name,
          displayName: name,
          timestampNs: start,
          durationPs: (end - start) * 1000n,
          events: lane.map((span) => eventOf(span, start, eventId(span.name), statId)),
        }),
      );
    });
  }
  plane.lines = lines;
  return create(XSpaceSchema, { planes: [plane], hostnames: [hostname], warnings });
}

function eventOf(span: Span, lineStartNs: bigint, metadataId: bigint, statId: (name: string) => bigint): XEvent {
  const stats: XStat[] = Object.entries(span.stats).map(([name, value]) =>
    create(XStatSchema, {
      metadataId: statId(name),
      value: typeof value === 'number' ? { case: 'int64Value', value: BigInt(Math.round(value)) } : { case: 'strValue', value },
    }),
  );
  return create(XEventSchema, {
    metadataId,
    data: { case: 'offsetPs', value: (span.startNs - lineStartNs) * 1000n },
    durationPs: span.durationNs * 1000n,
    stats,
  });
}

/** Greedy interval partitioning: each span goes to the first lane whose last span ended before it. */
function partitionIntoLanes(spans: readonly Span[]): Span[][] {
  const sorted = [...spans].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  const lanes: Span[][] = [];
  const laneEnds: bigint[] = [];
  for (const span of sorted) {
    let lane = laneEnds.findIndex((end) => end <= span.startNs);
    if (lane < 0) {
      lane = lanes.length;
      lanes.push([]);
      laneEnds.push(0n);
    }
    lanes[lane]!.push(span);
    laneEnds[lane] = span.startNs + span.durationNs;
  }
  return lanes;
}
