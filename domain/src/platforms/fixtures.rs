//! The platform response fixtures, vendored under `domain/fixtures/platforms/` (see its README).
//! `tiktok/webhook_authorization_removed.json` is a callback body, not a client response: it is
//! vendored and drift-checked but parsed by the webhook handler, not here.

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/platforms/",
            $path
        ))
    };
}

pub(crate) mod google {
    pub(crate) const ANALYTICS_DAILY: &str = fixture!("google/analytics_daily.json");
    pub(crate) const ANALYTICS_DEMOGRAPHICS: &str = fixture!("google/analytics_demographics.json");
    pub(crate) const CHANNELS_MINE: &str = fixture!("google/channels_mine.json");
    pub(crate) const CHANNELS_MINE_EMPTY: &str = fixture!("google/channels_mine_empty.json");
    pub(crate) const ERROR_INVALID_GRANT: &str = fixture!("google/error_invalid_grant.json");
    pub(crate) const ERROR_QUOTA: &str = fixture!("google/error_quota.json");
    pub(crate) const ERROR_UNAUTHENTICATED: &str = fixture!("google/error_unauthenticated.json");
    pub(crate) const REFRESHED_TOKEN: &str = fixture!("google/refreshed_token.json");
    pub(crate) const TOKEN: &str = fixture!("google/token.json");
    pub(crate) const VIDEOS: &str = fixture!("google/videos.json");
}

pub(crate) mod meta {
    pub(crate) const DEBUG_TOKEN: &str = fixture!("meta/debug_token.json");
    pub(crate) const ERROR_APP_REMOVED: &str = fixture!("meta/error_app_removed.json");
    pub(crate) const ERROR_PASSWORD_CHANGED: &str = fixture!("meta/error_password_changed.json");
    pub(crate) const ERROR_PERMISSION: &str = fixture!("meta/error_permission.json");
    pub(crate) const ERROR_RATE_LIMITED: &str = fixture!("meta/error_rate_limited.json");
    pub(crate) const ERROR_TOKEN_EXPIRED: &str = fixture!("meta/error_token_expired.json");
    pub(crate) const FOLLOWER_DEMOGRAPHICS_AGE: &str =
        fixture!("meta/follower_demographics_age.json");
    pub(crate) const IG_MEDIA: &str = fixture!("meta/ig_media.json");
    pub(crate) const IG_STORIES: &str = fixture!("meta/ig_stories.json");
    pub(crate) const IG_USER: &str = fixture!("meta/ig_user.json");
    pub(crate) const LONG_LIVED_TOKEN: &str = fixture!("meta/long_lived_token.json");
    pub(crate) const ME_ACCOUNTS: &str = fixture!("meta/me_accounts.json");
    pub(crate) const MEDIA_INSIGHTS_REEL: &str = fixture!("meta/media_insights_reel.json");
    pub(crate) const STORY_INSIGHTS: &str = fixture!("meta/story_insights.json");
}

pub(crate) mod tiktok {
    pub(crate) const ERROR_ACCESS_TOKEN_INVALID: &str =
        fixture!("tiktok/error_access_token_invalid.json");
    pub(crate) const ERROR_INVALID_GRANT: &str = fixture!("tiktok/error_invalid_grant.json");
    pub(crate) const ERROR_RATE_LIMIT: &str = fixture!("tiktok/error_rate_limit.json");
    pub(crate) const TOKEN: &str = fixture!("tiktok/token.json");
    pub(crate) const USER_INFO: &str = fixture!("tiktok/user_info.json");
    pub(crate) const VIDEO_LIST: &str = fixture!("tiktok/video_list.json");
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The nearest `shared/fixtures` above the crate, if this checkout has one.
    fn shared_fixtures() -> Option<PathBuf> {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("shared").join("fixtures"))
            .find(|dir| dir.is_dir())
    }

    #[test]
    fn vendored_copies_match_the_shared_fixtures() {
        let Some(shared) = shared_fixtures() else {
            return;
        };
        let vendored = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join("platforms");
        for provider in ["google", "meta", "tiktok"] {
            let entries =
                std::fs::read_dir(shared.join(provider)).expect("shared fixtures readable");
            for entry in entries {
                let path = entry.expect("directory entry").path();
                let name = path.file_name().expect("file name").to_owned();
                let ours = std::fs::read(vendored.join(provider).join(&name))
                    .unwrap_or_else(|_| panic!("{provider}/{name:?} is not vendored"));
                assert_eq!(
                    ours,
                    std::fs::read(&path).expect("shared fixture readable"),
                    "{provider}/{name:?} differs"
                );
            }
        }
    }
}
