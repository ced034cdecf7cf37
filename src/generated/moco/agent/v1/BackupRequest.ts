// Original file: proto/moco/agent/v1/agent.proto

import type { BucketConfig as _moco_agent_v1_BucketConfig, BucketConfig__Output as _moco_agent_v1_BucketConfig__Output } from '../../../moco/agent/v1/BucketConfig';

export interface BackupRequest {
  'bucket'?: (_moco_agent_v1_BucketConfig | null);
  'prefix'?: (string);
  'time'?: (string);
  'previousTime'?: (string);
  'previousGtid'?: (string);
  'previousBinlogFile'?: (string);
  'clusterNamespace'?: (string);
  'clusterName'?: (string);
  'sourceIndex'?: (number);
  'compression'?: (string);
}

export interface BackupRequest__Output {
  'bucket': (_moco_agent_v1_BucketConfig__Output | null);
  'prefix': (string);
  'time': (string);
  'previousTime': (string);
  'previousGtid': (string);
  'previousBinlogFile': (string);
  'clusterNamespace': (string);
  'clusterName': (string);
  'sourceIndex': (number);
  'compression': (string);
}
