// Original file: proto/moco/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DataChunk as _moco_agent_v1_DataChunk, DataChunk__Output as _moco_agent_v1_DataChunk__Output } from '../../../moco/agent/v1/DataChunk';
import type { StreamCloneRequest as _moco_agent_v1_StreamCloneRequest, StreamCloneRequest__Output as _moco_agent_v1_StreamCloneRequest__Output } from '../../../moco/agent/v1/StreamCloneRequest';

export interface DonorClient extends grpc.Client {
  StreamClone(argument: _moco_agent_v1_StreamCloneRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_DataChunk__Output>;
  StreamClone(argument: _moco_agent_v1_StreamCloneRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_DataChunk__Output>;
  streamClone(argument: _moco_agent_v1_StreamCloneRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_DataChunk__Output>;
  streamClone(argument: _moco_agent_v1_StreamCloneRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_DataChunk__Output>;
  
}

export interface DonorHandlers extends grpc.UntypedServiceImplementation {
  StreamClone: grpc.handleServerStreamingCall<_moco_agent_v1_StreamCloneRequest__Output, _moco_agent_v1_DataChunk>;
  
}

export interface DonorDefinition extends grpc.ServiceDefinition {
  StreamClone: MethodDefinition<_moco_agent_v1_StreamCloneRequest, _moco_agent_v1_DataChunk, _moco_agent_v1_StreamCloneRequest__Output, _moco_agent_v1_DataChunk__Output>
}
