//! A pool's triggers (Cognito's `LambdaConfigType`), kept in the pool's settings
//! exactly as they were sent, so `DescribeUserPool` reads them back unchanged.

use serde::{Deserialize, Serialize};

/// Cognito's `LambdaConfig`: where each trigger goes. A target is a Lambda ARN or an
/// `https://` URL (a webhook); see the `triggers` module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LambdaConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_sign_up: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_confirmation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_authentication: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_authentication: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub define_auth_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_auth_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_auth_challenge_response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_token_generation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_token_generation_config: Option<PreTokenGenerationConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_migration: Option<String>,
}

/// `PreTokenGenerationVersionConfigType`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PreTokenGenerationConfig {
    pub lambda_version: String,
    pub lambda_arn: String,
}

/// The triggers cognate can raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    PreSignUp,
    CustomMessage,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    PreTokenGeneration,
    UserMigration,
}

impl Trigger {
    /// The name Cognito uses in its error messages (`PreSignUp failed with error …`).
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::CustomMessage => "CustomMessage",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::PreAuthentication => "PreAuthentication",
            Trigger::PostAuthentication => "PostAuthentication",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Trigger::PreTokenGeneration => "PreTokenGeneration",
            Trigger::UserMigration => "UserMigration",
        }
    }
}

impl LambdaConfig {
    /// The target of `trigger`, if the pool has one. The pre token generation target
    /// is `PreTokenGenerationConfig`'s when given, else `PreTokenGeneration`'s.
    pub fn target(&self, trigger: Trigger) -> Option<&str> {
        let t = match trigger {
            Trigger::PreSignUp => &self.pre_sign_up,
            Trigger::CustomMessage => &self.custom_message,
            Trigger::PostConfirmation => &self.post_confirmation,
            Trigger::PreAuthentication => &self.pre_authentication,
            Trigger::PostAuthentication => &self.post_authentication,
            Trigger::DefineAuthChallenge => &self.define_auth_challenge,
            Trigger::CreateAuthChallenge => &self.create_auth_challenge,
            Trigger::VerifyAuthChallengeResponse => &self.verify_auth_challenge_response,
            Trigger::PreTokenGeneration => {
                if let Some(c) = &self.pre_token_generation_config {
                    return Some(c.lambda_arn.as_str());
                }
                &self.pre_token_generation
            }
            Trigger::UserMigration => &self.user_migration,
        };
        t.as_deref()
    }

    /// The pre token generation event's version: `1` (`V1_0`, the default), `2` or `3`.
    pub fn pre_token_version(&self) -> u8 {
        match self
            .pre_token_generation_config
            .as_ref()
            .map(|c| c.lambda_version.as_str())
        {
            Some("V2_0") => 2,
            Some("V3_0") => 3,
            _ => 1,
        }
    }

    /// Every target set, with the field naming it.
    pub fn targets(&self) -> Vec<(&'static str, &str)> {
        let fields = [
            ("PreSignUp", &self.pre_sign_up),
            ("CustomMessage", &self.custom_message),
            ("PostConfirmation", &self.post_confirmation),
            ("PreAuthentication", &self.pre_authentication),
            ("PostAuthentication", &self.post_authentication),
            ("DefineAuthChallenge", &self.define_auth_challenge),
            ("CreateAuthChallenge", &self.create_auth_challenge),
            (
                "VerifyAuthChallengeResponse",
                &self.verify_auth_challenge_response,
            ),
            ("PreTokenGeneration", &self.pre_token_generation),
            ("UserMigration", &self.user_migration),
        ];
        let mut out: Vec<(&'static str, &str)> = fields
            .into_iter()
            .filter_map(|(name, v)| v.as_deref().map(|v| (name, v)))
            .collect();
        if let Some(c) = &self.pre_token_generation_config {
            out.push(("PreTokenGenerationConfig.LambdaArn", c.lambda_arn.as_str()));
        }
        out
    }

    /// Whether no trigger is set.
    pub fn is_empty(&self) -> bool {
        self == &LambdaConfig::default()
    }
}
