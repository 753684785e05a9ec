
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "AcceptInvitationResult": [
      "AcceptInvitationPayload",
      "InvitationInvalidError"
    ],
    "AcceptInvitationWithTokenResult": [
      "AcceptInvitationWithTokenPayload",
      "InvitationInvalidError",
      "ValidationError"
    ],
    "ApproveAccessRequestResult": [
      "AlreadyDecidedError",
      "ApproveAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ApproveAccessRequestsResult": [
      "ApproveAccessRequestsPayload",
      "ValidationError"
    ],
    "BootstrapResult": [
      "BootstrapClosedError",
      "BootstrapNotAllowedError",
      "BootstrapPayload",
      "RateLimitedError",
      "ValidationError"
    ],
    "CancelAccessRequestResult": [
      "AlreadyDecidedError",
      "CancelAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ChangeCredentialOnTargetResult": [
      "ChangeCredentialOnTargetPayload",
      "NoTargetError",
      "TargetOperationError"
    ],
    "ChangePasswordResult": [
      "ChangePasswordPayload",
      "InvalidCredentialsError",
      "RateLimitedError",
      "ValidationError"
    ],
    "CheckCredentialResult": [
      "CheckCredentialPayload",
      "NoTargetError",
      "TargetOperationError"
    ],
    "CheckInAccessRequestResult": [
      "AlreadyDecidedError",
      "CheckInAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "CompleteSignInResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "CompleteSsoSignInResult": [
      "InvalidSsoCodeError",
      "MfaRequired",
      "SignInPayload",
      "ValidationError"
    ],
    "ConfirmTotpResult": [
      "ConfirmTotpPayload",
      "InvalidSecondFactorError",
      "RateLimitedError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "CreateAccessPolicyResult": [
      "CreateAccessPolicyPayload",
      "ValidationError"
    ],
    "CreateApiKeyResult": [
      "CreateApiKeyPayload",
      "ValidationError"
    ],
    "CreateAssetResult": [
      "AlreadyExistsError",
      "CreateAssetPayload",
      "ValidationError"
    ],
    "CreateCategoryResult": [
      "AlreadyExistsError",
      "CreateCategoryPayload",
      "ValidationError"
    ],
    "CreateCredentialResult": [
      "CreateCredentialPayload",
      "ValidationError"
    ],
    "CreateFolderResult": [
      "AlreadyExistsError",
      "CreateFolderPayload",
      "ValidationError"
    ],
    "CreateOrganizationResult": [
      "CreateOrganizationPayload",
      "ValidationError"
    ],
    "CreateWorkflowResult": [
      "CreateWorkflowPayload",
      "ValidationError"
    ],
    "DeclineInvitationResult": [
      "DeclineInvitationPayload",
      "InvitationInvalidError"
    ],
    "DeleteCategoryResult": [
      "CategoryInUseError",
      "DeleteCategoryPayload",
      "ValidationError"
    ],
    "DeleteCredentialResult": [
      "CredentialHasOpenRequestsError",
      "DeleteCredentialPayload"
    ],
    "DeleteFolderResult": [
      "AlreadyExistsError",
      "DeleteFolderPayload",
      "FolderNotEmptyError",
      "ValidationError"
    ],
    "DenyAccessRequestResult": [
      "AlreadyDecidedError",
      "DenyAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "DenyAccessRequestsResult": [
      "DenyAccessRequestsPayload",
      "ValidationError"
    ],
    "Error": [
      "AccessRequestNotFoundError",
      "AccessRequestRequiredError",
      "AlreadyDecidedError",
      "AlreadyExistsError",
      "AssetNotReadyError",
      "AssetUnreachableError",
      "BootstrapClosedError",
      "BootstrapNotAllowedError",
      "CategoryInUseError",
      "ConflictError",
      "CredentialArchivedError",
      "CredentialHasOpenRequestsError",
      "CredentialNotAvailableError",
      "FieldNotAvailableError",
      "FolderNotEmptyError",
      "HostKeyAlreadyPinnedError",
      "ImportProblemsError",
      "InvalidCredentialsError",
      "InvalidRequestStateError",
      "InvalidSecondFactorError",
      "InvalidSsoCodeError",
      "InvitationInvalidError",
      "LastAdminError",
      "MfaRequired",
      "NotAnAccountError",
      "NotApproverError",
      "NoTargetError",
      "NotASessionRequestError",
      "PasswordSignInDisabledError",
      "PolicyViolationError",
      "RateLimitedError",
      "RecordingUnavailableError",
      "SecretUnavailableError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "TargetOperationError",
      "ValidationError"
    ],
    "ExportCredentialsResult": [
      "ExportCredentialsPayload",
      "RateLimitedError",
      "ValidationError"
    ],
    "FinishPasskeyRegistrationResult": [
      "FinishPasskeyRegistrationPayload",
      "ValidationError"
    ],
    "ImportCredentialsResult": [
      "ConflictError",
      "ImportCredentialsPayload",
      "ImportProblemsError",
      "ValidationError"
    ],
    "InviteMemberResult": [
      "AlreadyExistsError",
      "InviteMemberPayload",
      "ValidationError"
    ],
    "MoveFolderResult": [
      "AlreadyExistsError",
      "MoveFolderPayload",
      "ValidationError"
    ],
    "Node": [
      "AccessPolicy",
      "AccessRequest",
      "AccessSession",
      "ApiKey",
      "Asset",
      "AuditEvent",
      "Category",
      "Credential",
      "Folder",
      "Invitation",
      "Membership",
      "Organization",
      "User",
      "Workflow"
    ],
    "PinAssetHostKeyResult": [
      "AssetUnreachableError",
      "HostKeyAlreadyPinnedError",
      "PinAssetHostKeyPayload",
      "ValidationError"
    ],
    "RecordCredentialAccessResult": [
      "AccessRequestRequiredError",
      "CredentialArchivedError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RecordCredentialAccessPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RegenerateRecoveryCodesResult": [
      "RegenerateRecoveryCodesPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RemoveAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveMemberResult": [
      "LastAdminError",
      "RemoveMemberPayload"
    ],
    "RemovePasskeyResult": [
      "RemovePasskeyPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveSecondFactorsResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "RemoveSecondFactorsPayload",
      "ValidationError"
    ],
    "RenameCategoryResult": [
      "AlreadyExistsError",
      "RenameCategoryPayload",
      "ValidationError"
    ],
    "RenameFolderResult": [
      "AlreadyExistsError",
      "RenameFolderPayload",
      "ValidationError"
    ],
    "RenamePasskeyResult": [
      "RenamePasskeyPayload",
      "ValidationError"
    ],
    "RequestAccessResult": [
      "PolicyViolationError",
      "RequestAccessPayload",
      "ValidationError"
    ],
    "ResubmitAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "ResubmitAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RevealCredentialResult": [
      "AccessRequestRequiredError",
      "CredentialArchivedError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RevealCredentialPayload",
      "SecretUnavailableError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ReviewAccessRequestsResult": [
      "ReviewAccessRequestsPayload",
      "ValidationError"
    ],
    "RevokeAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RevokeAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RevokeInvitationResult": [
      "InvitationInvalidError",
      "RevokeInvitationPayload"
    ],
    "RotateCredentialResult": [
      "ConflictError",
      "RotateCredentialPayload",
      "ValidationError"
    ],
    "RotateCredentialsResult": [
      "RotateCredentialsPayload",
      "ValidationError"
    ],
    "SessionRecordingResult": [
      "RecordingUnavailableError",
      "SessionRecording"
    ],
    "SetCredentialAssetResult": [
      "NotAnAccountError",
      "SetCredentialAssetPayload"
    ],
    "SignInResult": [
      "InvalidCredentialsError",
      "MfaRequired",
      "PasswordSignInDisabledError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "StartPasskeyAuthenticationResult": [
      "InvalidSecondFactorError",
      "PasskeyOptionsPayload",
      "ValidationError"
    ],
    "StartPasskeyRegistrationResult": [
      "PasskeyOptionsPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "StartSessionResult": [
      "AssetNotReadyError",
      "InvalidRequestStateError",
      "NotASessionRequestError",
      "StartSessionPayload"
    ],
    "StepUpResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "StepUpPayload",
      "ValidationError"
    ],
    "TerminateSessionResult": [
      "InvalidRequestStateError",
      "TerminateSessionPayload"
    ],
    "TestWorkflowActionResult": [
      "TestWorkflowActionPayload",
      "ValidationError"
    ],
    "UpdateAccessPolicyResult": [
      "UpdateAccessPolicyPayload",
      "ValidationError"
    ],
    "UpdateAssetResult": [
      "AlreadyExistsError",
      "UpdateAssetPayload",
      "ValidationError"
    ],
    "UpdateCredentialResult": [
      "UpdateCredentialPayload",
      "ValidationError"
    ],
    "UpdateMemberRoleResult": [
      "LastAdminError",
      "UpdateMemberRolePayload",
      "ValidationError"
    ],
    "UpdateOrganizationResult": [
      "UpdateOrganizationPayload",
      "ValidationError"
    ],
    "UpdateWorkflowResult": [
      "UpdateWorkflowPayload",
      "ValidationError"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "AcceptInvitationResult": [
      "AcceptInvitationPayload",
      "InvitationInvalidError"
    ],
    "AcceptInvitationWithTokenResult": [
      "AcceptInvitationWithTokenPayload",
      "InvitationInvalidError",
      "ValidationError"
    ],
    "ApproveAccessRequestResult": [
      "AlreadyDecidedError",
      "ApproveAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ApproveAccessRequestsResult": [
      "ApproveAccessRequestsPayload",
      "ValidationError"
    ],
    "BootstrapResult": [
      "BootstrapClosedError",
      "BootstrapNotAllowedError",
      "BootstrapPayload",
      "RateLimitedError",
      "ValidationError"
    ],
    "CancelAccessRequestResult": [
      "AlreadyDecidedError",
      "CancelAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ChangeCredentialOnTargetResult": [
      "ChangeCredentialOnTargetPayload",
      "NoTargetError",
      "TargetOperationError"
    ],
    "ChangePasswordResult": [
      "ChangePasswordPayload",
      "InvalidCredentialsError",
      "RateLimitedError",
      "ValidationError"
    ],
    "CheckCredentialResult": [
      "CheckCredentialPayload",
      "NoTargetError",
      "TargetOperationError"
    ],
    "CheckInAccessRequestResult": [
      "AlreadyDecidedError",
      "CheckInAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "CompleteSignInResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "CompleteSsoSignInResult": [
      "InvalidSsoCodeError",
      "MfaRequired",
      "SignInPayload",
      "ValidationError"
    ],
    "ConfirmTotpResult": [
      "ConfirmTotpPayload",
      "InvalidSecondFactorError",
      "RateLimitedError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "CreateAccessPolicyResult": [
      "CreateAccessPolicyPayload",
      "ValidationError"
    ],
    "CreateApiKeyResult": [
      "CreateApiKeyPayload",
      "ValidationError"
    ],
    "CreateAssetResult": [
      "AlreadyExistsError",
      "CreateAssetPayload",
      "ValidationError"
    ],
    "CreateCategoryResult": [
      "AlreadyExistsError",
      "CreateCategoryPayload",
      "ValidationError"
    ],
    "CreateCredentialResult": [
      "CreateCredentialPayload",
      "ValidationError"
    ],
    "CreateFolderResult": [
      "AlreadyExistsError",
      "CreateFolderPayload",
      "ValidationError"
    ],
    "CreateOrganizationResult": [
      "CreateOrganizationPayload",
      "ValidationError"
    ],
    "CreateWorkflowResult": [
      "CreateWorkflowPayload",
      "ValidationError"
    ],
    "DeclineInvitationResult": [
      "DeclineInvitationPayload",
      "InvitationInvalidError"
    ],
    "DeleteCategoryResult": [
      "CategoryInUseError",
      "DeleteCategoryPayload",
      "ValidationError"
    ],
    "DeleteCredentialResult": [
      "CredentialHasOpenRequestsError",
      "DeleteCredentialPayload"
    ],
    "DeleteFolderResult": [
      "AlreadyExistsError",
      "DeleteFolderPayload",
      "FolderNotEmptyError",
      "ValidationError"
    ],
    "DenyAccessRequestResult": [
      "AlreadyDecidedError",
      "DenyAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "DenyAccessRequestsResult": [
      "DenyAccessRequestsPayload",
      "ValidationError"
    ],
    "Error": [
      "AccessRequestNotFoundError",
      "AccessRequestRequiredError",
      "AlreadyDecidedError",
      "AlreadyExistsError",
      "AssetNotReadyError",
      "AssetUnreachableError",
      "BootstrapClosedError",
      "BootstrapNotAllowedError",
      "CategoryInUseError",
      "ConflictError",
      "CredentialArchivedError",
      "CredentialHasOpenRequestsError",
      "CredentialNotAvailableError",
      "FieldNotAvailableError",
      "FolderNotEmptyError",
      "HostKeyAlreadyPinnedError",
      "ImportProblemsError",
      "InvalidCredentialsError",
      "InvalidRequestStateError",
      "InvalidSecondFactorError",
      "InvalidSsoCodeError",
      "InvitationInvalidError",
      "LastAdminError",
      "MfaRequired",
      "NotAnAccountError",
      "NotApproverError",
      "NoTargetError",
      "NotASessionRequestError",
      "PasswordSignInDisabledError",
      "PolicyViolationError",
      "RateLimitedError",
      "RecordingUnavailableError",
      "SecretUnavailableError",
      "SelfApprovalError",
      "StepUpRequiredError",
      "TargetOperationError",
      "ValidationError"
    ],
    "ExportCredentialsResult": [
      "ExportCredentialsPayload",
      "RateLimitedError",
      "ValidationError"
    ],
    "FinishPasskeyRegistrationResult": [
      "FinishPasskeyRegistrationPayload",
      "ValidationError"
    ],
    "ImportCredentialsResult": [
      "ConflictError",
      "ImportCredentialsPayload",
      "ImportProblemsError",
      "ValidationError"
    ],
    "InviteMemberResult": [
      "AlreadyExistsError",
      "InviteMemberPayload",
      "ValidationError"
    ],
    "MoveFolderResult": [
      "AlreadyExistsError",
      "MoveFolderPayload",
      "ValidationError"
    ],
    "Node": [
      "AccessPolicy",
      "AccessRequest",
      "AccessSession",
      "ApiKey",
      "Asset",
      "AuditEvent",
      "Category",
      "Credential",
      "Folder",
      "Invitation",
      "Membership",
      "Organization",
      "User",
      "Workflow"
    ],
    "PinAssetHostKeyResult": [
      "AssetUnreachableError",
      "HostKeyAlreadyPinnedError",
      "PinAssetHostKeyPayload",
      "ValidationError"
    ],
    "RecordCredentialAccessResult": [
      "AccessRequestRequiredError",
      "CredentialArchivedError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RecordCredentialAccessPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RegenerateRecoveryCodesResult": [
      "RegenerateRecoveryCodesPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RemoveAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveMemberResult": [
      "LastAdminError",
      "RemoveMemberPayload"
    ],
    "RemovePasskeyResult": [
      "RemovePasskeyPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RemoveSecondFactorsResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "RemoveSecondFactorsPayload",
      "ValidationError"
    ],
    "RenameCategoryResult": [
      "AlreadyExistsError",
      "RenameCategoryPayload",
      "ValidationError"
    ],
    "RenameFolderResult": [
      "AlreadyExistsError",
      "RenameFolderPayload",
      "ValidationError"
    ],
    "RenamePasskeyResult": [
      "RenamePasskeyPayload",
      "ValidationError"
    ],
    "RequestAccessResult": [
      "PolicyViolationError",
      "RequestAccessPayload",
      "ValidationError"
    ],
    "ResubmitAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "ResubmitAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RevealCredentialResult": [
      "AccessRequestRequiredError",
      "CredentialArchivedError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RevealCredentialPayload",
      "SecretUnavailableError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "ReviewAccessRequestsResult": [
      "ReviewAccessRequestsPayload",
      "ValidationError"
    ],
    "RevokeAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RevokeAccessRequestPayload",
      "SelfApprovalError",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "RevokeInvitationResult": [
      "InvitationInvalidError",
      "RevokeInvitationPayload"
    ],
    "RotateCredentialResult": [
      "ConflictError",
      "RotateCredentialPayload",
      "ValidationError"
    ],
    "RotateCredentialsResult": [
      "RotateCredentialsPayload",
      "ValidationError"
    ],
    "SessionRecordingResult": [
      "RecordingUnavailableError",
      "SessionRecording"
    ],
    "SetCredentialAssetResult": [
      "NotAnAccountError",
      "SetCredentialAssetPayload"
    ],
    "SignInResult": [
      "InvalidCredentialsError",
      "MfaRequired",
      "PasswordSignInDisabledError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "StartPasskeyAuthenticationResult": [
      "InvalidSecondFactorError",
      "PasskeyOptionsPayload",
      "ValidationError"
    ],
    "StartPasskeyRegistrationResult": [
      "PasskeyOptionsPayload",
      "StepUpRequiredError",
      "ValidationError"
    ],
    "StartSessionResult": [
      "AssetNotReadyError",
      "InvalidRequestStateError",
      "NotASessionRequestError",
      "StartSessionPayload"
    ],
    "StepUpResult": [
      "InvalidSecondFactorError",
      "RateLimitedError",
      "StepUpPayload",
      "ValidationError"
    ],
    "TerminateSessionResult": [
      "InvalidRequestStateError",
      "TerminateSessionPayload"
    ],
    "TestWorkflowActionResult": [
      "TestWorkflowActionPayload",
      "ValidationError"
    ],
    "UpdateAccessPolicyResult": [
      "UpdateAccessPolicyPayload",
      "ValidationError"
    ],
    "UpdateAssetResult": [
      "AlreadyExistsError",
      "UpdateAssetPayload",
      "ValidationError"
    ],
    "UpdateCredentialResult": [
      "UpdateCredentialPayload",
      "ValidationError"
    ],
    "UpdateMemberRoleResult": [
      "LastAdminError",
      "UpdateMemberRolePayload",
      "ValidationError"
    ],
    "UpdateOrganizationResult": [
      "UpdateOrganizationPayload",
      "ValidationError"
    ],
    "UpdateWorkflowResult": [
      "UpdateWorkflowPayload",
      "ValidationError"
    ]
  }
};
      export default result;
    