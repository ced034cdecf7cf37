// Original file: proto/moco/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BackupProgress as _moco_agent_v1_BackupProgress, BackupProgress__Output as _moco_agent_v1_BackupProgress__Output } from '../../../moco/agent/v1/BackupProgress';
import type { BackupRequest as _moco_agent_v1_BackupRequest, BackupRequest__Output as _moco_agent_v1_BackupRequest__Output } from '../../../moco/agent/v1/BackupRequest';
import type { CloneRequest as _moco_agent_v1_CloneRequest, CloneRequest__Output as _moco_agent_v1_CloneRequest__Output } from '../../../moco/agent/v1/CloneRequest';
import type { CloneResponse as _moco_agent_v1_CloneResponse, CloneResponse__Output as _moco_agent_v1_CloneResponse__Output } from '../../../moco/agent/v1/CloneResponse';
import type { ConfigurePrimaryRequest as _moco_agent_v1_ConfigurePrimaryRequest, ConfigurePrimaryRequest__Output as _moco_agent_v1_ConfigurePrimaryRequest__Output } from '../../../moco/agent/v1/ConfigurePrimaryRequest';
import type { ConfigurePrimaryResponse as _moco_agent_v1_ConfigurePrimaryResponse, ConfigurePrimaryResponse__Output as _moco_agent_v1_ConfigurePrimaryResponse__Output } from '../../../moco/agent/v1/ConfigurePrimaryResponse';
import type { ConfigureReplicaRequest as _moco_agent_v1_ConfigureReplicaRequest, ConfigureReplicaRequest__Output as _moco_agent_v1_ConfigureReplicaRequest__Output } from '../../../moco/agent/v1/ConfigureReplicaRequest';
import type { ConfigureReplicaResponse as _moco_agent_v1_ConfigureReplicaResponse, ConfigureReplicaResponse__Output as _moco_agent_v1_ConfigureReplicaResponse__Output } from '../../../moco/agent/v1/ConfigureReplicaResponse';
import type { FlushBinlogsRequest as _moco_agent_v1_FlushBinlogsRequest, FlushBinlogsRequest__Output as _moco_agent_v1_FlushBinlogsRequest__Output } from '../../../moco/agent/v1/FlushBinlogsRequest';
import type { FlushBinlogsResponse as _moco_agent_v1_FlushBinlogsResponse, FlushBinlogsResponse__Output as _moco_agent_v1_FlushBinlogsResponse__Output } from '../../../moco/agent/v1/FlushBinlogsResponse';
import type { GetStatusRequest as _moco_agent_v1_GetStatusRequest, GetStatusRequest__Output as _moco_agent_v1_GetStatusRequest__Output } from '../../../moco/agent/v1/GetStatusRequest';
import type { InstanceStatus as _moco_agent_v1_InstanceStatus, InstanceStatus__Output as _moco_agent_v1_InstanceStatus__Output } from '../../../moco/agent/v1/InstanceStatus';
import type { KillConnectionsRequest as _moco_agent_v1_KillConnectionsRequest, KillConnectionsRequest__Output as _moco_agent_v1_KillConnectionsRequest__Output } from '../../../moco/agent/v1/KillConnectionsRequest';
import type { KillConnectionsResponse as _moco_agent_v1_KillConnectionsResponse, KillConnectionsResponse__Output as _moco_agent_v1_KillConnectionsResponse__Output } from '../../../moco/agent/v1/KillConnectionsResponse';
import type { RestoreProgress as _moco_agent_v1_RestoreProgress, RestoreProgress__Output as _moco_agent_v1_RestoreProgress__Output } from '../../../moco/agent/v1/RestoreProgress';
import type { RestoreRequest as _moco_agent_v1_RestoreRequest, RestoreRequest__Output as _moco_agent_v1_RestoreRequest__Output } from '../../../moco/agent/v1/RestoreRequest';
import type { SetReadOnlyRequest as _moco_agent_v1_SetReadOnlyRequest, SetReadOnlyRequest__Output as _moco_agent_v1_SetReadOnlyRequest__Output } from '../../../moco/agent/v1/SetReadOnlyRequest';
import type { SetReadOnlyResponse as _moco_agent_v1_SetReadOnlyResponse, SetReadOnlyResponse__Output as _moco_agent_v1_SetReadOnlyResponse__Output } from '../../../moco/agent/v1/SetReadOnlyResponse';
import type { SetWritableRequest as _moco_agent_v1_SetWritableRequest, SetWritableRequest__Output as _moco_agent_v1_SetWritableRequest__Output } from '../../../moco/agent/v1/SetWritableRequest';
import type { SetWritableResponse as _moco_agent_v1_SetWritableResponse, SetWritableResponse__Output as _moco_agent_v1_SetWritableResponse__Output } from '../../../moco/agent/v1/SetWritableResponse';
import type { StatusEvent as _moco_agent_v1_StatusEvent, StatusEvent__Output as _moco_agent_v1_StatusEvent__Output } from '../../../moco/agent/v1/StatusEvent';
import type { StopReplicaIORequest as _moco_agent_v1_StopReplicaIORequest, StopReplicaIORequest__Output as _moco_agent_v1_StopReplicaIORequest__Output } from '../../../moco/agent/v1/StopReplicaIORequest';
import type { StopReplicaIOResponse as _moco_agent_v1_StopReplicaIOResponse, StopReplicaIOResponse__Output as _moco_agent_v1_StopReplicaIOResponse__Output } from '../../../moco/agent/v1/StopReplicaIOResponse';
import type { WaitForGtidRequest as _moco_agent_v1_WaitForGtidRequest, WaitForGtidRequest__Output as _moco_agent_v1_WaitForGtidRequest__Output } from '../../../moco/agent/v1/WaitForGtidRequest';
import type { WaitForGtidResponse as _moco_agent_v1_WaitForGtidResponse, WaitForGtidResponse__Output as _moco_agent_v1_WaitForGtidResponse__Output } from '../../../moco/agent/v1/WaitForGtidResponse';
import type { WatchStatusRequest as _moco_agent_v1_WatchStatusRequest, WatchStatusRequest__Output as _moco_agent_v1_WatchStatusRequest__Output } from '../../../moco/agent/v1/WatchStatusRequest';

export interface AgentClient extends grpc.Client {
  Backup(argument: _moco_agent_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_BackupProgress__Output>;
  Backup(argument: _moco_agent_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_BackupProgress__Output>;
  backup(argument: _moco_agent_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_BackupProgress__Output>;
  backup(argument: _moco_agent_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_BackupProgress__Output>;
  
  Clone(argument: _moco_agent_v1_CloneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  Clone(argument: _moco_agent_v1_CloneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  Clone(argument: _moco_agent_v1_CloneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  Clone(argument: _moco_agent_v1_CloneRequest, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  clone(argument: _moco_agent_v1_CloneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  clone(argument: _moco_agent_v1_CloneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  clone(argument: _moco_agent_v1_CloneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  clone(argument: _moco_agent_v1_CloneRequest, callback: grpc.requestCallback<_moco_agent_v1_CloneResponse__Output>): grpc.ClientUnaryCall;
  
  ConfigurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  ConfigurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  ConfigurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  ConfigurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  configurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  configurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  configurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  configurePrimary(argument: _moco_agent_v1_ConfigurePrimaryRequest, callback: grpc.requestCallback<_moco_agent_v1_ConfigurePrimaryResponse__Output>): grpc.ClientUnaryCall;
  
  ConfigureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  ConfigureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  ConfigureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  ConfigureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  configureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  configureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  configureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  configureReplica(argument: _moco_agent_v1_ConfigureReplicaRequest, callback: grpc.requestCallback<_moco_agent_v1_ConfigureReplicaResponse__Output>): grpc.ClientUnaryCall;
  
  FlushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  FlushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  FlushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  FlushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  flushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  flushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  flushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  flushBinlogs(argument: _moco_agent_v1_FlushBinlogsRequest, callback: grpc.requestCallback<_moco_agent_v1_FlushBinlogsResponse__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _moco_agent_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _moco_agent_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _moco_agent_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _moco_agent_v1_GetStatusRequest, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _moco_agent_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _moco_agent_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _moco_agent_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _moco_agent_v1_GetStatusRequest, callback: grpc.requestCallback<_moco_agent_v1_InstanceStatus__Output>): grpc.ClientUnaryCall;
  
  KillConnections(argument: _moco_agent_v1_KillConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  KillConnections(argument: _moco_agent_v1_KillConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  KillConnections(argument: _moco_agent_v1_KillConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  KillConnections(argument: _moco_agent_v1_KillConnectionsRequest, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  killConnections(argument: _moco_agent_v1_KillConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  killConnections(argument: _moco_agent_v1_KillConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  killConnections(argument: _moco_agent_v1_KillConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  killConnections(argument: _moco_agent_v1_KillConnectionsRequest, callback: grpc.requestCallback<_moco_agent_v1_KillConnectionsResponse__Output>): grpc.ClientUnaryCall;
  
  Restore(argument: _moco_agent_v1_RestoreRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_RestoreProgress__Output>;
  Restore(argument: _moco_agent_v1_RestoreRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_RestoreProgress__Output>;
  restore(argument: _moco_agent_v1_RestoreRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_RestoreProgress__Output>;
  restore(argument: _moco_agent_v1_RestoreRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_RestoreProgress__Output>;
  
  SetReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  SetReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  SetReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  SetReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  setReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  setReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  setReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  setReadOnly(argument: _moco_agent_v1_SetReadOnlyRequest, callback: grpc.requestCallback<_moco_agent_v1_SetReadOnlyResponse__Output>): grpc.ClientUnaryCall;
  
  SetWritable(argument: _moco_agent_v1_SetWritableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  SetWritable(argument: _moco_agent_v1_SetWritableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  SetWritable(argument: _moco_agent_v1_SetWritableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  SetWritable(argument: _moco_agent_v1_SetWritableRequest, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  setWritable(argument: _moco_agent_v1_SetWritableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  setWritable(argument: _moco_agent_v1_SetWritableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  setWritable(argument: _moco_agent_v1_SetWritableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  setWritable(argument: _moco_agent_v1_SetWritableRequest, callback: grpc.requestCallback<_moco_agent_v1_SetWritableResponse__Output>): grpc.ClientUnaryCall;
  
  StopReplicaIO(argument: _moco_agent_v1_StopReplicaIORequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  StopReplicaIO(argument: _moco_agent_v1_StopReplicaIORequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  StopReplicaIO(argument: _moco_agent_v1_StopReplicaIORequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  StopReplicaIO(argument: _moco_agent_v1_StopReplicaIORequest, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  stopReplicaIo(argument: _moco_agent_v1_StopReplicaIORequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  stopReplicaIo(argument: _moco_agent_v1_StopReplicaIORequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  stopReplicaIo(argument: _moco_agent_v1_StopReplicaIORequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  stopReplicaIo(argument: _moco_agent_v1_StopReplicaIORequest, callback: grpc.requestCallback<_moco_agent_v1_StopReplicaIOResponse__Output>): grpc.ClientUnaryCall;
  
  WaitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  WaitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  WaitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  WaitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  waitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  waitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  waitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  waitForGtid(argument: _moco_agent_v1_WaitForGtidRequest, callback: grpc.requestCallback<_moco_agent_v1_WaitForGtidResponse__Output>): grpc.ClientUnaryCall;
  
  WatchStatus(argument: _moco_agent_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_StatusEvent__Output>;
  WatchStatus(argument: _moco_agent_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_StatusEvent__Output>;
  watchStatus(argument: _moco_agent_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_StatusEvent__Output>;
  watchStatus(argument: _moco_agent_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_moco_agent_v1_StatusEvent__Output>;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  Backup: grpc.handleServerStreamingCall<_moco_agent_v1_BackupRequest__Output, _moco_agent_v1_BackupProgress>;
  
  Clone: grpc.handleUnaryCall<_moco_agent_v1_CloneRequest__Output, _moco_agent_v1_CloneResponse>;
  
  ConfigurePrimary: grpc.handleUnaryCall<_moco_agent_v1_ConfigurePrimaryRequest__Output, _moco_agent_v1_ConfigurePrimaryResponse>;
  
  ConfigureReplica: grpc.handleUnaryCall<_moco_agent_v1_ConfigureReplicaRequest__Output, _moco_agent_v1_ConfigureReplicaResponse>;
  
  FlushBinlogs: grpc.handleUnaryCall<_moco_agent_v1_FlushBinlogsRequest__Output, _moco_agent_v1_FlushBinlogsResponse>;
  
  GetStatus: grpc.handleUnaryCall<_moco_agent_v1_GetStatusRequest__Output, _moco_agent_v1_InstanceStatus>;
  
  KillConnections: grpc.handleUnaryCall<_moco_agent_v1_KillConnectionsRequest__Output, _moco_agent_v1_KillConnectionsResponse>;
  
  Restore: grpc.handleServerStreamingCall<_moco_agent_v1_RestoreRequest__Output, _moco_agent_v1_RestoreProgress>;
  
  SetReadOnly: grpc.handleUnaryCall<_moco_agent_v1_SetReadOnlyRequest__Output, _moco_agent_v1_SetReadOnlyResponse>;
  
  SetWritable: grpc.handleUnaryCall<_moco_agent_v1_SetWritableRequest__Output, _moco_agent_v1_SetWritableResponse>;
  
  StopReplicaIO: grpc.handleUnaryCall<_moco_agent_v1_StopReplicaIORequest__Output, _moco_agent_v1_StopReplicaIOResponse>;
  
  WaitForGtid: grpc.handleUnaryCall<_moco_agent_v1_WaitForGtidRequest__Output, _moco_agent_v1_WaitForGtidResponse>;
  
  WatchStatus: grpc.handleServerStreamingCall<_moco_agent_v1_WatchStatusRequest__Output, _moco_agent_v1_StatusEvent>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  Backup: MethodDefinition<_moco_agent_v1_BackupRequest, _moco_agent_v1_BackupProgress, _moco_agent_v1_BackupRequest__Output, _moco_agent_v1_BackupProgress__Output>
  Clone: MethodDefinition<_moco_agent_v1_CloneRequest, _moco_agent_v1_CloneResponse, _moco_agent_v1_CloneRequest__Output, _moco_agent_v1_CloneResponse__Output>
  ConfigurePrimary: MethodDefinition<_moco_agent_v1_ConfigurePrimaryRequest, _moco_agent_v1_ConfigurePrimaryResponse, _moco_agent_v1_ConfigurePrimaryRequest__Output, _moco_agent_v1_ConfigurePrimaryResponse__Output>
  ConfigureReplica: MethodDefinition<_moco_agent_v1_ConfigureReplicaRequest, _moco_agent_v1_ConfigureReplicaResponse, _moco_agent_v1_ConfigureReplicaRequest__Output, _moco_agent_v1_ConfigureReplicaResponse__Output>
  FlushBinlogs: MethodDefinition<_moco_agent_v1_FlushBinlogsRequest, _moco_agent_v1_FlushBinlogsResponse, _moco_agent_v1_FlushBinlogsRequest__Output, _moco_agent_v1_FlushBinlogsResponse__Output>
  GetStatus: MethodDefinition<_moco_agent_v1_GetStatusRequest, _moco_agent_v1_InstanceStatus, _moco_agent_v1_GetStatusRequest__Output, _moco_agent_v1_InstanceStatus__Output>
  KillConnections: MethodDefinition<_moco_agent_v1_KillConnectionsRequest, _moco_agent_v1_KillConnectionsResponse, _moco_agent_v1_KillConnectionsRequest__Output, _moco_agent_v1_KillConnectionsResponse__Output>
  Restore: MethodDefinition<_moco_agent_v1_RestoreRequest, _moco_agent_v1_RestoreProgress, _moco_agent_v1_RestoreRequest__Output, _moco_agent_v1_RestoreProgress__Output>
  SetReadOnly: MethodDefinition<_moco_agent_v1_SetReadOnlyRequest, _moco_agent_v1_SetReadOnlyResponse, _moco_agent_v1_SetReadOnlyRequest__Output, _moco_agent_v1_SetReadOnlyResponse__Output>
  SetWritable: MethodDefinition<_moco_agent_v1_SetWritableRequest, _moco_agent_v1_SetWritableResponse, _moco_agent_v1_SetWritableRequest__Output, _moco_agent_v1_SetWritableResponse__Output>
  StopReplicaIO: MethodDefinition<_moco_agent_v1_StopReplicaIORequest, _moco_agent_v1_StopReplicaIOResponse, _moco_agent_v1_StopReplicaIORequest__Output, _moco_agent_v1_StopReplicaIOResponse__Output>
  WaitForGtid: MethodDefinition<_moco_agent_v1_WaitForGtidRequest, _moco_agent_v1_WaitForGtidResponse, _moco_agent_v1_WaitForGtidRequest__Output, _moco_agent_v1_WaitForGtidResponse__Output>
  WatchStatus: MethodDefinition<_moco_agent_v1_WatchStatusRequest, _moco_agent_v1_StatusEvent, _moco_agent_v1_WatchStatusRequest__Output, _moco_agent_v1_StatusEvent__Output>
}
