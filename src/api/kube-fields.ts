/**
 * The field names of the Kubernetes types a MySQLCluster embeds (core/v1 as of 1.20, plus the fields later
 * versions added, so that manifests written for a newer cluster are not refused). The API server silently drops an
 * unknown field (`imag:` for `image:`); we refuse it instead and suggest the nearest name.
 */
import { words } from './checker.ts';

export const KUBE_FIELDS = {
  /** The reduced ObjectMeta of the MySQLCluster's templates. */
  templateMeta: words('name labels annotations'),
  podSpec: words(`volumes initContainers containers ephemeralContainers restartPolicy terminationGracePeriodSeconds
    activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken nodeName
    hostNetwork hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname subdomain affinity
    schedulerName tolerations hostAliases priorityClassName priority dnsConfig readinessGates runtimeClassName
    enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers
    schedulingGates resourceClaims resources`),
  container: words(`name image command args workingDir ports envFrom env resources volumeMounts volumeDevices
    livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath terminationMessagePolicy
    imagePullPolicy securityContext stdin stdinOnce tty resizePolicy restartPolicy`),
  resources: words('limits requests claims'),
  containerPort: words('name hostPort containerPort protocol hostIP'),
  pvcSpec: words(`accessModes selector resources volumeName storageClassName volumeMode dataSource dataSourceRef
    volumeAttributesClassName`),
  serviceSpec: words(`ports selector clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP
    loadBalancerSourceRanges externalName externalTrafficPolicy healthCheckNodePort publishNotReadyAddresses
    sessionAffinityConfig topologyKeys ipFamilies ipFamilyPolicy allocateLoadBalancerNodePorts loadBalancerClass
    internalTrafficPolicy trafficDistribution`),
};
