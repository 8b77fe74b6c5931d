/// Fake Bitbucket server (see FakeBitbucketServer).
enum BitbucketFakeModule {}
