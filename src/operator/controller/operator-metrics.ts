/**
 * The operator's Prometheus metrics, on a registry of its own (never prom-client's global one, so
 * tests and embedded servers do not collide). It implements the hooks of the work queue, the
 * worker loop, the supervised informers and the leader elector; other modules add their metrics
 * to the same registry through counter()/gauge()/histogram():
 *
 *   const promotions = metrics.counter({ name: 'tfmodel_operator_promotions_total', help: '...', labelNames: ['result'] });
 */
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import type { LeaderObserver } from './leader-election.js';
import type { ReconcileObserver, ReconcileOutcome } from './run-workers.js';
import type { InformerObserver, RestartReason } from './supervised-informer.js';
import type { WorkQueueObserver } from './work-queue.js';

/** controller-runtime's reconcile time buckets (seconds). */
export const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5,
  6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

export interface OperatorMetricsOptions {
  /** process_* and nodejs_* metrics. Default true. */
  readonly processMetrics?: boolean;
}

/** What /metrics serves. */
export interface MetricsPage {
  readonly contentType: string;
  readonly body: string;
}

/** The queue as the depth and longest-running gauges read it at scrape time. */
export interface ObservedQueue {
  readonly length: number;
  longestRunningMs(): number;
}

export class OperatorMetrics implements WorkQueueObserver, ReconcileObserver, InformerObserver, LeaderObserver {
  readonly registry = new Registry();
  private queue: ObservedQueue | undefined;

  private readonly reconcileTotal = this.counter({
    name: 'tfmodel_operator_reconcile_total',
    help: 'Reconciles by result: success, error, or requeue (succeeded and asked to run again later).',
    labelNames: ['result'],
  });
  private readonly reconcileDuration = this.histogram({
    name: 'tfmodel_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took, whatever its result.',
    buckets: RECONCILE_BUCKETS,
  });
  private readonly reconcileErrors = this.counter({ name: 'tfmodel_operator_reconcile_errors_total', help: 'Reconciles that failed.' });
  private readonly queueAdds = this.counter({ name: 'tfmodel_operator_workqueue_adds_total', help: 'Keys added to the work queue (after deduplication).' });
  private readonly queueRetries = this.counter({ name: 'tfmodel_operator_workqueue_retries_total', help: 'Keys requeued with backoff after a failed reconcile.' });
  private readonly watchRestarts = this.counter({
    name: 'tfmodel_operator_watch_restarts_total',
    help: 'Informer restarts after a watch error or a silent watch (watchdog), by resource.',
    labelNames: ['resource'],
  });
  private readonly leader = this.gauge({ name: 'tfmodel_operator_leader', help: '1 while this replica holds the leader Lease, else 0.' });

  constructor(options: OperatorMetricsOptions = {}) {
    const queue = (): ObservedQueue | undefined => this.queue;
    this.gauge({
      name: 'tfmodel_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      collect() {
        this.set(queue()?.length ?? 0);
      },
    });
    this.gauge({
      name: 'tfmodel_operator_workqueue_longest_running_seconds',
      help: 'How long the longest reconcile still running has been running.',
      collect() {
        this.set((queue()?.longestRunningMs() ?? 0) / 1000);
      },
    });
    // Series exist from the start, so rate() and alerts see a 0 rather than nothing.
    for (const result of ['success', 'error', 'requeue'] satisfies ReconcileOutcome[]) this.reconcileTotal.inc({ result }, 0);
    this.leader.set(0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The queue whose depth and longest-running reconcile are exported (read at scrape time). */
  observeQueue(queue: ObservedQueue): void {
    this.queue = queue;
  }

  added(): void {
    this.queueAdds.inc();
  }

  retried(): void {
    this.queueRetries.inc();
  }

  reconciled(outcome: ReconcileOutcome, seconds: number): void {
    this.reconcileTotal.inc({ result: outcome });
    if (outcome === 'error') this.reconcileErrors.inc();
    this.reconcileDuration.observe(seconds);
  }

  watchRestarted(resource: string, _reason: RestartReason): void {
    this.watchRestarts.inc({ resource });
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  async render(): Promise<MetricsPage> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  counter<L extends string = string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<L extends string = string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<L extends string = string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return new Histogram({ ...config, registers: [this.registry] });
  }
}
