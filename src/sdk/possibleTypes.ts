
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "AddMemberResult": [
      "AddMemberPayload",
      "AlreadyExistsError",
      "ValidationError"
    ],
    "ApproveAccessRequestResult": [
      "AlreadyDecidedError",
      "ApproveAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ApproveAccessRequestsResult": [
      "ApproveAccessRequestsPayload",
      "ValidationError"
    ],
    "BootstrapResult": [
      "BootstrapClosedError",
      "BootstrapPayload",
      "ValidationError"
    ],
    "CancelAccessRequestResult": [
      "AlreadyDecidedError",
      "CancelAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ChangePasswordResult": [
      "ChangePasswordPayload",
      "InvalidCredentialsError",
      "RateLimitedError",
      "ValidationError"
    ],
    "CheckInAccessRequestResult": [
      "AlreadyDecidedError",
      "CheckInAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
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
      "BootstrapClosedError",
      "CategoryInUseError",
      "CredentialHasOpenRequestsError",
      "FieldNotAvailableError",
      "FolderNotEmptyError",
      "InvalidCredentialsError",
      "InvalidRequestStateError",
      "LastAdminError",
      "NotApproverError",
      "PolicyViolationError",
      "RateLimitedError",
      "SecretUnavailableError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ExportCredentialsResult": [
      "ExportCredentialsPayload",
      "RateLimitedError",
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
      "ApiKey",
      "AuditEvent",
      "Category",
      "Credential",
      "Folder",
      "Membership",
      "Organization",
      "User",
      "Workflow"
    ],
    "RecordCredentialAccessResult": [
      "AccessRequestRequiredError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RecordCredentialAccessPayload",
      "ValidationError"
    ],
    "RemoveAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RemoveAccessRequestPayload",
      "SelfApprovalError",
      "ValidationError"
    ],
    "RemoveMemberResult": [
      "LastAdminError",
      "RemoveMemberPayload"
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
      "ValidationError"
    ],
    "RevealCredentialResult": [
      "AccessRequestRequiredError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RevealCredentialPayload",
      "SecretUnavailableError",
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
      "ValidationError"
    ],
    "RotateCredentialResult": [
      "RotateCredentialPayload",
      "ValidationError"
    ],
    "SignInResult": [
      "InvalidCredentialsError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "TestWorkflowActionResult": [
      "TestWorkflowActionPayload",
      "ValidationError"
    ],
    "UpdateAccessPolicyResult": [
      "UpdateAccessPolicyPayload",
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
    "AddMemberResult": [
      "AddMemberPayload",
      "AlreadyExistsError",
      "ValidationError"
    ],
    "ApproveAccessRequestResult": [
      "AlreadyDecidedError",
      "ApproveAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ApproveAccessRequestsResult": [
      "ApproveAccessRequestsPayload",
      "ValidationError"
    ],
    "BootstrapResult": [
      "BootstrapClosedError",
      "BootstrapPayload",
      "ValidationError"
    ],
    "CancelAccessRequestResult": [
      "AlreadyDecidedError",
      "CancelAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ChangePasswordResult": [
      "ChangePasswordPayload",
      "InvalidCredentialsError",
      "RateLimitedError",
      "ValidationError"
    ],
    "CheckInAccessRequestResult": [
      "AlreadyDecidedError",
      "CheckInAccessRequestPayload",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "SelfApprovalError",
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
      "BootstrapClosedError",
      "CategoryInUseError",
      "CredentialHasOpenRequestsError",
      "FieldNotAvailableError",
      "FolderNotEmptyError",
      "InvalidCredentialsError",
      "InvalidRequestStateError",
      "LastAdminError",
      "NotApproverError",
      "PolicyViolationError",
      "RateLimitedError",
      "SecretUnavailableError",
      "SelfApprovalError",
      "ValidationError"
    ],
    "ExportCredentialsResult": [
      "ExportCredentialsPayload",
      "RateLimitedError",
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
      "ApiKey",
      "AuditEvent",
      "Category",
      "Credential",
      "Folder",
      "Membership",
      "Organization",
      "User",
      "Workflow"
    ],
    "RecordCredentialAccessResult": [
      "AccessRequestRequiredError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RecordCredentialAccessPayload",
      "ValidationError"
    ],
    "RemoveAccessRequestResult": [
      "AlreadyDecidedError",
      "InvalidRequestStateError",
      "NotApproverError",
      "PolicyViolationError",
      "RemoveAccessRequestPayload",
      "SelfApprovalError",
      "ValidationError"
    ],
    "RemoveMemberResult": [
      "LastAdminError",
      "RemoveMemberPayload"
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
      "ValidationError"
    ],
    "RevealCredentialResult": [
      "AccessRequestRequiredError",
      "FieldNotAvailableError",
      "RateLimitedError",
      "RevealCredentialPayload",
      "SecretUnavailableError",
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
      "ValidationError"
    ],
    "RotateCredentialResult": [
      "RotateCredentialPayload",
      "ValidationError"
    ],
    "SignInResult": [
      "InvalidCredentialsError",
      "RateLimitedError",
      "SignInPayload",
      "ValidationError"
    ],
    "TestWorkflowActionResult": [
      "TestWorkflowActionPayload",
      "ValidationError"
    ],
    "UpdateAccessPolicyResult": [
      "UpdateAccessPolicyPayload",
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
    