// The package's main entry point: the ports (one Tag per repository), RepositoryAccess and its unit of work, the model and the errors a caller handles.
export * from "./model/index.js"
export * from "./storage/RepositoryAccess.js"
export { CleanupResult } from "./storage/common/CleanupResult.js"
export {
  DriverError,
  InconsistencyError,
  InvalidOperationError,
  RowsAffectedError,
  SqlState,
  isDatabaseError,
  type DatabaseError
} from "./storage/common/errors.js"
export { type Direction, type Edge, InvalidPagination, Page, Pagination } from "./storage/common/Pagination.js"
export * from "./storage/appSession/AppSessionRepository.js"
export * from "./storage/compat/CompatAccessTokenRepository.js"
export * from "./storage/compat/CompatRefreshTokenRepository.js"
export * from "./storage/compat/CompatSessionRepository.js"
export * from "./storage/compat/CompatSsoLoginRepository.js"
export * from "./storage/oauth2/OAuth2AccessTokenRepository.js"
export * from "./storage/oauth2/OAuth2AuthorizationGrantRepository.js"
export * from "./storage/oauth2/OAuth2ClientRepository.js"
export * from "./storage/oauth2/OAuth2DeviceCodeGrantRepository.js"
export * from "./storage/oauth2/OAuth2RefreshTokenRepository.js"
export * from "./storage/oauth2/OAuth2SessionRepository.js"
export * from "./storage/personal/PersonalAccessTokenRepository.js"
export * from "./storage/personal/PersonalSessionRepository.js"
export * from "./storage/policy/PolicyDataRepository.js"
export * from "./storage/queue/QueueJobRepository.js"
export * from "./storage/queue/QueueScheduleRepository.js"
export * from "./storage/queue/QueueWorkerRepository.js"
export * from "./storage/upstream/UpstreamOAuthLinkRepository.js"
export * from "./storage/upstream/UpstreamOAuthProviderRepository.js"
export * from "./storage/upstream/UpstreamOAuthSessionRepository.js"
export * from "./storage/user/BrowserSessionRepository.js"
export * from "./storage/user/UserEmailRepository.js"
export * from "./storage/user/UserPasswordRepository.js"
export * from "./storage/user/UserRecoveryRepository.js"
export * from "./storage/user/UserRegistrationRepository.js"
export * from "./storage/user/UserRegistrationTokenRepository.js"
export * from "./storage/user/UserRepository.js"
export * from "./storage/user/UserTermsRepository.js"
