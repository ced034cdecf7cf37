// Original file: proto/moco/agent/v1/agent.proto


export interface BucketConfig {
  'backendType'?: (string);
  'bucket'?: (string);
  'region'?: (string);
  'endpointUrl'?: (string);
  'usePathStyle'?: (boolean);
  'caCertPem'?: (string);
  'accessKeyId'?: (string);
  'secretAccessKey'?: (string);
  'sessionToken'?: (string);
}

export interface BucketConfig__Output {
  'backendType': (string);
  'bucket': (string);
  'region': (string);
  'endpointUrl': (string);
  'usePathStyle': (boolean);
  'caCertPem': (string);
  'accessKeyId': (string);
  'secretAccessKey': (string);
  'sessionToken': (string);
}
