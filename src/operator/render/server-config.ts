/**
 * The files tfmodel-server reads, rendered as protobuf messages and printed in protobuf text
 * format exactly as tensorflow_model_server expects them: model.config (hot: polled and pushed),
 * batching.config and monitoring.config (read at start). The ModelServerConfig message is also
 * what the operator pushes with HandleReloadConfigRequest, so file and push cannot differ.
 */
import { create } from '@bufbuild/protobuf';
import { type BatchingParameters, BatchingParametersSchema } from '../../gen/tensorflow_serving/config/batching_parameters_pb.js';
import {
  type FileSystemStoragePathSourceConfig_ServableVersionPolicy, FileSystemStoragePathSourceConfig_ServableVersionPolicySchema,
} from '../../gen/tensorflow_serving/config/file_system_storage_path_source_pb.js';
import { type ModelServerConfig, ModelServerConfigSchema } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { MonitoringConfigSchema } from '../../gen/tensorflow_serving/config/monitoring_config_pb.js';
import { printTextFormat } from '../../common/protobuf-text/index.js';
import type { BatchingSpec } from '../api/generated/tfmodel.js';
import type { ResolvedMonitoring, ResolvedPolicy } from '../api/tfmodel.js';

export interface ServedModel {
  readonly modelName: string;
  /** The base path as the pod sees it. */
  readonly basePath: string;
  readonly policy: ResolvedPolicy;
  /**
   * Versions to load besides the policy's (label targets old and new during a promotion). Only a
   * specific policy can name them; promotion planning knows the other kinds cannot.
   */
  readonly extraVersions: readonly number[];
  readonly labels: ReadonlyMap<string, number>;
}

export function modelServerConfig(model: ServedModel): ModelServerConfig {
  return create(ModelServerConfigSchema, {
    config: {
      case: 'modelConfigList',
      value: {
        config: [{
          name: model.modelName,
          basePath: model.basePath,
          modelPlatform: 'tensorflow',
          modelVersionPolicy: versionPolicy(model.policy, model.extraVersions),
          versionLabels: Object.fromEntries([...model.labels].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, v]) => [label, BigInt(v)])),
        }],
      },
    },
  });
}

function versionPolicy(policy: ResolvedPolicy, extraVersions: readonly number[]): FileSystemStoragePathSourceConfig_ServableVersionPolicy {
  switch (policy.kind) {
    case 'latest':
      return create(FileSystemStoragePathSourceConfig_ServableVersionPolicySchema, { policyChoice: { case: 'latest', value: { numVersions: policy.numVersions } } });
    case 'all':
      return create(FileSystemStoragePathSourceConfig_ServableVersionPolicySchema, { policyChoice: { case: 'all', value: {} } });
    case 'specific': {
      const versions = [...new Set([...policy.versions, ...extraVersions])].sort((a, b) => a - b).map(BigInt);
      return create(FileSystemStoragePathSourceConfig_ServableVersionPolicySchema, { policyChoice: { case: 'specific', value: { versions } } });
    }
  }
}

export function modelConfigText(config: ModelServerConfig): string {
  return printTextFormat(ModelServerConfigSchema, config);
}

export function batchingParameters(spec: BatchingSpec): BatchingParameters {
  const int64 = (value: number | undefined): bigint | undefined => (value === undefined ? undefined : BigInt(value));
  return create(BatchingParametersSchema, {
    maxBatchSize: int64(spec.maxBatchSize),
    batchTimeoutMicros: int64(spec.batchTimeoutMicros),
    maxEnqueuedBatches: int64(spec.maxEnqueuedBatches),
    numBatchThreads: int64(spec.numBatchThreads),
    allowedBatchSizes: (spec.allowedBatchSizes ?? []).map(BigInt),
    padVariableLengthInputs: spec.padVariableLengthInputs ?? false,
  });
}

export function batchingConfigText(spec: BatchingSpec): string {
  return printTextFormat(BatchingParametersSchema, batchingParameters(spec));
}

export function monitoringConfigText(monitoring: ResolvedMonitoring): string {
  return printTextFormat(MonitoringConfigSchema, create(MonitoringConfigSchema, { prometheusConfig: { enable: true, path: monitoring.path } }));
}
