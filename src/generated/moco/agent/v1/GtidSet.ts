// Original file: proto/moco/agent/v1/agent.proto

import type { GtidInterval as _moco_agent_v1_GtidInterval, GtidInterval__Output as _moco_agent_v1_GtidInterval__Output } from '../../../moco/agent/v1/GtidInterval';

export interface GtidSet {
  'text'?: (string);
  'intervals'?: (_moco_agent_v1_GtidInterval)[];
}

export interface GtidSet__Output {
  'text': (string);
  'intervals': (_moco_agent_v1_GtidInterval__Output)[];
}
