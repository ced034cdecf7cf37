import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _moco_agent_v1_AgentClient, AgentDefinition as _moco_agent_v1_AgentDefinition } from './moco/agent/v1/Agent';
import type { BackupProgress as _moco_agent_v1_BackupProgress, BackupProgress__Output as _moco_agent_v1_BackupProgress__Output } from './moco/agent/v1/BackupProgress';
import type { BackupRequest as _moco_agent_v1_BackupRequest, BackupRequest__Output as _moco_agent_v1_BackupRequest__Output } from './moco/agent/v1/BackupRequest';
import type { BackupResult as _moco_agent_v1_BackupResult, BackupResult__Output as _moco_agent_v1_BackupResult__Output } from './moco/agent/v1/BackupResult';
import type { BucketConfig as _moco_agent_v1_BucketConfig, BucketConfig__Output as _moco_agent_v1_BucketConfig__Output } from './moco/agent/v1/BucketConfig';
import type { CloneRequest as _moco_agent_v1_CloneRequest, CloneRequest__Output as _moco_agent_v1_CloneRequest__Output } from './moco/agent/v1/CloneRequest';
import type { CloneResponse as _moco_agent_v1_CloneResponse, CloneResponse__Output as _moco_agent_v1_CloneResponse__Output } from './moco/agent/v1/CloneResponse';
import type { CloneStatus as _moco_agent_v1_CloneStatus, CloneStatus__Output as _moco_agent_v1_CloneStatus__Output } from './moco/agent/v1/CloneStatus';
import type { ConfigurePrimaryRequest as _moco_agent_v1_ConfigurePrimaryRequest, ConfigurePrimaryRequest__Output as _moco_agent_v1_ConfigurePrimaryRequest__Output } from './moco/agent/v1/ConfigurePrimaryRequest';
import type { ConfigurePrimaryResponse as _moco_agent_v1_ConfigurePrimaryResponse, ConfigurePrimaryResponse__Output as _moco_agent_v1_ConfigurePrimaryResponse__Output } from './moco/agent/v1/ConfigurePrimaryResponse';
import type { ConfigureReplicaRequest as _moco_agent_v1_ConfigureReplicaRequest, ConfigureReplicaRequest__Output as _moco_agent_v1_ConfigureReplicaRequest__Output } from './moco/agent/v1/ConfigureReplicaRequest';
import type { ConfigureReplicaResponse as _moco_agent_v1_ConfigureReplicaResponse, ConfigureReplicaResponse__Output as _moco_agent_v1_ConfigureReplicaResponse__Output } from './moco/agent/v1/ConfigureReplicaResponse';
import type { ConnectedReplica as _moco_agent_v1_ConnectedReplica, ConnectedReplica__Output as _moco_agent_v1_ConnectedReplica__Output } from './moco/agent/v1/ConnectedReplica';
import type { DataChunk as _moco_agent_v1_DataChunk, DataChunk__Output as _moco_agent_v1_DataChunk__Output } from './moco/agent/v1/DataChunk';
import type { DonorClient as _moco_agent_v1_DonorClient, DonorDefinition as _moco_agent_v1_DonorDefinition } from './moco/agent/v1/Donor';
import type { FlushBinlogsRequest as _moco_agent_v1_FlushBinlogsRequest, FlushBinlogsRequest__Output as _moco_agent_v1_FlushBinlogsRequest__Output } from './moco/agent/v1/FlushBinlogsRequest';
import type { FlushBinlogsResponse as _moco_agent_v1_FlushBinlogsResponse, FlushBinlogsResponse__Output as _moco_agent_v1_FlushBinlogsResponse__Output } from './moco/agent/v1/FlushBinlogsResponse';
import type { GetStatusRequest as _moco_agent_v1_GetStatusRequest, GetStatusRequest__Output as _moco_agent_v1_GetStatusRequest__Output } from './moco/agent/v1/GetStatusRequest';
import type { GtidInterval as _moco_agent_v1_GtidInterval, GtidInterval__Output as _moco_agent_v1_GtidInterval__Output } from './moco/agent/v1/GtidInterval';
import type { GtidSet as _moco_agent_v1_GtidSet, GtidSet__Output as _moco_agent_v1_GtidSet__Output } from './moco/agent/v1/GtidSet';
import type { InstanceStatus as _moco_agent_v1_InstanceStatus, InstanceStatus__Output as _moco_agent_v1_InstanceStatus__Output } from './moco/agent/v1/InstanceStatus';
import type { KillConnectionsRequest as _moco_agent_v1_KillConnectionsRequest, KillConnectionsRequest__Output as _moco_agent_v1_KillConnectionsRequest__Output } from './moco/agent/v1/KillConnectionsRequest';
import type { KillConnectionsResponse as _moco_agent_v1_KillConnectionsResponse, KillConnectionsResponse__Output as _moco_agent_v1_KillConnectionsResponse__Output } from './moco/agent/v1/KillConnectionsResponse';
import type { MariadbGtidState as _moco_agent_v1_MariadbGtidState, MariadbGtidState__Output as _moco_agent_v1_MariadbGtidState__Output } from './moco/agent/v1/MariadbGtidState';
import type { ReplicaStatus as _moco_agent_v1_ReplicaStatus, ReplicaStatus__Output as _moco_agent_v1_ReplicaStatus__Output } from './moco/agent/v1/ReplicaStatus';
import type { RestoreProgress as _moco_agent_v1_RestoreProgress, RestoreProgress__Output as _moco_agent_v1_RestoreProgress__Output } from './moco/agent/v1/RestoreProgress';
import type { RestoreRequest as _moco_agent_v1_RestoreRequest, RestoreRequest__Output as _moco_agent_v1_RestoreRequest__Output } from './moco/agent/v1/RestoreRequest';
import type { RestoreResult as _moco_agent_v1_RestoreResult, RestoreResult__Output as _moco_agent_v1_RestoreResult__Output } from './moco/agent/v1/RestoreResult';
import type { SemiSyncStatus as _moco_agent_v1_SemiSyncStatus, SemiSyncStatus__Output as _moco_agent_v1_SemiSyncStatus__Output } from './moco/agent/v1/SemiSyncStatus';
import type { SetReadOnlyRequest as _moco_agent_v1_SetReadOnlyRequest, SetReadOnlyRequest__Output as _moco_agent_v1_SetReadOnlyRequest__Output } from './moco/agent/v1/SetReadOnlyRequest';
import type { SetReadOnlyResponse as _moco_agent_v1_SetReadOnlyResponse, SetReadOnlyResponse__Output as _moco_agent_v1_SetReadOnlyResponse__Output } from './moco/agent/v1/SetReadOnlyResponse';
import type { SetWritableRequest as _moco_agent_v1_SetWritableRequest, SetWritableRequest__Output as _moco_agent_v1_SetWritableRequest__Output } from './moco/agent/v1/SetWritableRequest';
import type { SetWritableResponse as _moco_agent_v1_SetWritableResponse, SetWritableResponse__Output as _moco_agent_v1_SetWritableResponse__Output } from './moco/agent/v1/SetWritableResponse';
import type { StatusEvent as _moco_agent_v1_StatusEvent, StatusEvent__Output as _moco_agent_v1_StatusEvent__Output } from './moco/agent/v1/StatusEvent';
import type { StopReplicaIORequest as _moco_agent_v1_StopReplicaIORequest, StopReplicaIORequest__Output as _moco_agent_v1_StopReplicaIORequest__Output } from './moco/agent/v1/StopReplicaIORequest';
import type { StopReplicaIOResponse as _moco_agent_v1_StopReplicaIOResponse, StopReplicaIOResponse__Output as _moco_agent_v1_StopReplicaIOResponse__Output } from './moco/agent/v1/StopReplicaIOResponse';
import type { StreamCloneRequest as _moco_agent_v1_StreamCloneRequest, StreamCloneRequest__Output as _moco_agent_v1_StreamCloneRequest__Output } from './moco/agent/v1/StreamCloneRequest';
import type { WaitForGtidRequest as _moco_agent_v1_WaitForGtidRequest, WaitForGtidRequest__Output as _moco_agent_v1_WaitForGtidRequest__Output } from './moco/agent/v1/WaitForGtidRequest';
import type { WaitForGtidResponse as _moco_agent_v1_WaitForGtidResponse, WaitForGtidResponse__Output as _moco_agent_v1_WaitForGtidResponse__Output } from './moco/agent/v1/WaitForGtidResponse';
import type { WatchStatusRequest as _moco_agent_v1_WatchStatusRequest, WatchStatusRequest__Output as _moco_agent_v1_WatchStatusRequest__Output } from './moco/agent/v1/WatchStatusRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  moco: {
    agent: {
      v1: {
        Agent: SubtypeConstructor<typeof grpc.Client, _moco_agent_v1_AgentClient> & { service: _moco_agent_v1_AgentDefinition }
        BackupProgress: MessageTypeDefinition<_moco_agent_v1_BackupProgress, _moco_agent_v1_BackupProgress__Output>
        BackupRequest: MessageTypeDefinition<_moco_agent_v1_BackupRequest, _moco_agent_v1_BackupRequest__Output>
        BackupResult: MessageTypeDefinition<_moco_agent_v1_BackupResult, _moco_agent_v1_BackupResult__Output>
        BucketConfig: MessageTypeDefinition<_moco_agent_v1_BucketConfig, _moco_agent_v1_BucketConfig__Output>
        CloneRequest: MessageTypeDefinition<_moco_agent_v1_CloneRequest, _moco_agent_v1_CloneRequest__Output>
        CloneResponse: MessageTypeDefinition<_moco_agent_v1_CloneResponse, _moco_agent_v1_CloneResponse__Output>
        CloneStatus: MessageTypeDefinition<_moco_agent_v1_CloneStatus, _moco_agent_v1_CloneStatus__Output>
        ConfigurePrimaryRequest: MessageTypeDefinition<_moco_agent_v1_ConfigurePrimaryRequest, _moco_agent_v1_ConfigurePrimaryRequest__Output>
        ConfigurePrimaryResponse: MessageTypeDefinition<_moco_agent_v1_ConfigurePrimaryResponse, _moco_agent_v1_ConfigurePrimaryResponse__Output>
        ConfigureReplicaRequest: MessageTypeDefinition<_moco_agent_v1_ConfigureReplicaRequest, _moco_agent_v1_ConfigureReplicaRequest__Output>
        ConfigureReplicaResponse: MessageTypeDefinition<_moco_agent_v1_ConfigureReplicaResponse, _moco_agent_v1_ConfigureReplicaResponse__Output>
        ConnectedReplica: MessageTypeDefinition<_moco_agent_v1_ConnectedReplica, _moco_agent_v1_ConnectedReplica__Output>
        DataChunk: MessageTypeDefinition<_moco_agent_v1_DataChunk, _moco_agent_v1_DataChunk__Output>
        Donor: SubtypeConstructor<typeof grpc.Client, _moco_agent_v1_DonorClient> & { service: _moco_agent_v1_DonorDefinition }
        FlushBinlogsRequest: MessageTypeDefinition<_moco_agent_v1_FlushBinlogsRequest, _moco_agent_v1_FlushBinlogsRequest__Output>
        FlushBinlogsResponse: MessageTypeDefinition<_moco_agent_v1_FlushBinlogsResponse, _moco_agent_v1_FlushBinlogsResponse__Output>
        GetStatusRequest: MessageTypeDefinition<_moco_agent_v1_GetStatusRequest, _moco_agent_v1_GetStatusRequest__Output>
        GtidInterval: MessageTypeDefinition<_moco_agent_v1_GtidInterval, _moco_agent_v1_GtidInterval__Output>
        GtidSet: MessageTypeDefinition<_moco_agent_v1_GtidSet, _moco_agent_v1_GtidSet__Output>
        InstanceStatus: MessageTypeDefinition<_moco_agent_v1_InstanceStatus, _moco_agent_v1_InstanceStatus__Output>
        KillConnectionsRequest: MessageTypeDefinition<_moco_agent_v1_KillConnectionsRequest, _moco_agent_v1_KillConnectionsRequest__Output>
        KillConnectionsResponse: MessageTypeDefinition<_moco_agent_v1_KillConnectionsResponse, _moco_agent_v1_KillConnectionsResponse__Output>
        MariadbGtidState: MessageTypeDefinition<_moco_agent_v1_MariadbGtidState, _moco_agent_v1_MariadbGtidState__Output>
        ReplicaStatus: MessageTypeDefinition<_moco_agent_v1_ReplicaStatus, _moco_agent_v1_ReplicaStatus__Output>
        RestoreProgress: MessageTypeDefinition<_moco_agent_v1_RestoreProgress, _moco_agent_v1_RestoreProgress__Output>
        RestoreRequest: MessageTypeDefinition<_moco_agent_v1_RestoreRequest, _moco_agent_v1_RestoreRequest__Output>
        RestoreResult: MessageTypeDefinition<_moco_agent_v1_RestoreResult, _moco_agent_v1_RestoreResult__Output>
        SemiSyncStatus: MessageTypeDefinition<_moco_agent_v1_SemiSyncStatus, _moco_agent_v1_SemiSyncStatus__Output>
        SetReadOnlyRequest: MessageTypeDefinition<_moco_agent_v1_SetReadOnlyRequest, _moco_agent_v1_SetReadOnlyRequest__Output>
        SetReadOnlyResponse: MessageTypeDefinition<_moco_agent_v1_SetReadOnlyResponse, _moco_agent_v1_SetReadOnlyResponse__Output>
        SetWritableRequest: MessageTypeDefinition<_moco_agent_v1_SetWritableRequest, _moco_agent_v1_SetWritableRequest__Output>
        SetWritableResponse: MessageTypeDefinition<_moco_agent_v1_SetWritableResponse, _moco_agent_v1_SetWritableResponse__Output>
        StatusEvent: MessageTypeDefinition<_moco_agent_v1_StatusEvent, _moco_agent_v1_StatusEvent__Output>
        StopReplicaIORequest: MessageTypeDefinition<_moco_agent_v1_StopReplicaIORequest, _moco_agent_v1_StopReplicaIORequest__Output>
        StopReplicaIOResponse: MessageTypeDefinition<_moco_agent_v1_StopReplicaIOResponse, _moco_agent_v1_StopReplicaIOResponse__Output>
        StreamCloneRequest: MessageTypeDefinition<_moco_agent_v1_StreamCloneRequest, _moco_agent_v1_StreamCloneRequest__Output>
        WaitForGtidRequest: MessageTypeDefinition<_moco_agent_v1_WaitForGtidRequest, _moco_agent_v1_WaitForGtidRequest__Output>
        WaitForGtidResponse: MessageTypeDefinition<_moco_agent_v1_WaitForGtidResponse, _moco_agent_v1_WaitForGtidResponse__Output>
        WatchStatusRequest: MessageTypeDefinition<_moco_agent_v1_WatchStatusRequest, _moco_agent_v1_WatchStatusRequest__Output>
      }
    }
  }
}

