/// Bitbucket Cloud REST 2.0 client (see Client/).
enum BitbucketModule {}
