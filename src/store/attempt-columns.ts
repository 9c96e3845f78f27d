/** Every column of an attempt row, in the order both dialects select them. */
export const ATTEMPT_COLUMNS = `id, idempotence_token, status, target, method_name, method_args, encryptor, num_attempts,
  scheduled_at, completed_at, created_at, updated_at, last_error, lease_owner, lease_expires_at`;
