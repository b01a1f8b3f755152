// Issue 13: the litestream.yml LogPaste's image ships, for the unit and process tests of the reader.

/** LogPaste's litestream.yml, byte for byte as its image copies it to /etc/litestream.yml. */
export const LOGPASTE_YML = `access-key-id: \${LITESTREAM_ACCESS_KEY_ID}
secret-access-key: \${LITESTREAM_SECRET_ACCESS_KEY}
region: \${LITESTREAM_REGION}
dbs:
  - path: \${DB_PATH}
    replicas:
      - url: \${DB_REPLICA_URL}
        sync-interval: \${DB_SYNC_INTERVAL}
`;
