package com.amazonaws.services.lambda.runtime;

/** The Amazon Cognito identity of a caller that came through the AWS Mobile SDK. */
public interface CognitoIdentity {
  String getIdentityId();

  String getIdentityPoolId();
}
